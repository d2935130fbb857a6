import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeKubeconfig } from "../test/support/kube-api/kubeconfig.js";
import { KubeApiServer } from "../test/support/kube-api/server.js";
import { median } from "./stats.js";

/**
 * `chaos run` selecting and killing 10% of a 10,000-pod namespace through the API test server: wall time and
 * peak RSS of the whole CLI process. Baseline in the same run: the same experiment on a 100-pod namespace,
 * i.e. what the CLI costs before the namespace's size matters.
 */

const TARGET_SECONDS = 5;
const TARGET_RSS_MB = 150;
const ROUNDS = 3;
const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

/** Preloaded into the measured process: writes its own peak RSS and CPU time (getrusage) as it exits. */
const RSS_PRELOAD = `import { writeFileSync } from "node:fs";
process.on("exit", () => {
  const u = process.resourceUsage();
  writeFileSync(process.env.CHAOS_BENCH_RSS_FILE, JSON.stringify({ rssKb: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime }));
});
`;

interface Measure {
  seconds: number;
  cpuSeconds: number;
  rssMb: number;
  killed: number;
}

async function measure(dir: string, experiment: string): Promise<Measure> {
  const rssFile = join(dir, "rss");
  const journal = join(dir, "journal.json");
  const start = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        join(dir, "rss.mjs"),
        CLI,
        "run",
        experiment,
        "--ledger",
        join(dir, "ledger"),
        "--journal",
        journal,
        "--no-reports",
      ],
      {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, CHAOS_BENCH_RSS_FILE: rssFile, NO_COLOR: "1" },
      },
    );
    child.once("error", reject);
    child.once("exit", resolve);
  });
  const seconds = (performance.now() - start) / 1000;
  if (code !== 0) throw new Error(`chaos run exited ${code}`);
  const j = JSON.parse(await readFile(journal, "utf8"));
  const { rssKb, cpuUs } = JSON.parse(await readFile(rssFile, "utf8"));
  return { seconds, cpuSeconds: cpuUs / 1e6, rssMb: rssKb / 1024, killed: j.method[0].output.killed.length };
}

/**
 * (Re)creates `count` pods web-0… in `namespace`, named as a ReplicaSet names its pods (generateName), as in a
 * namespace of Deployments.
 */
function refill(api: KubeApiServer, namespace: string, count: number): void {
  api.addPods(
    namespace,
    "web",
    count,
    { app: "web" },
    { generated: true, owner: { kind: "ReplicaSet", name: "web-7d9c5b" } },
  );
}

export async function benchKubernetes(): Promise<void> {
  const api = await new KubeApiServer().start();
  const dir = await mkdtemp(join(tmpdir(), "chaos-bench-kube-"));
  try {
    const kubeconfig = await writeKubeconfig(dir, api.url, api.token);
    await writeFile(join(dir, "rss.mjs"), RSS_PRELOAD);
    const experiment = async (namespace: string) => {
      const file = join(dir, `${namespace}.yaml`);
      await writeFile(
        file,
        `version: 1
title: kill 10% of the pods
configuration:
  kubernetes: { kubeconfig: "${kubeconfig}" }
method:
  - action: kubernetes.pod-kill
    target: { namespace: ${namespace}, labels: { app: web }, select: { mode: percent, percent: 10, seed: 1 } }
    args: { grace-period: 0s }
`,
      );
      return file;
    };
    const small = await experiment("small");
    const large = await experiment("large");
    const rows: Record<"small" | "large", Measure[]> = { small: [], large: [] };
    for (let round = 0; round < ROUNDS; round++) {
      refill(api, "small", 100);
      rows.small.push(await measure(dir, small));
      refill(api, "large", 10_000);
      rows.large.push(await measure(dir, large));
    }
    const med = (k: "small" | "large", f: "seconds" | "cpuSeconds" | "rssMb") =>
      median(rows[k].map((m) => m[f]));
    const [tLarge, rLarge, tSmall, rSmall] = [
      med("large", "seconds"),
      med("large", "rssMb"),
      med("small", "seconds"),
      med("small", "rssMb"),
    ];
    const ok = tLarge <= TARGET_SECONDS && rLarge <= TARGET_RSS_MB;
    const line = (label: string, k: "small" | "large") =>
      `${label}${String(rows[k][0]!.killed).padStart(6)}   ${med(k, "seconds").toFixed(2).padStart(7)} s   ${med(k, "cpuSeconds").toFixed(2).padStart(6)} s   ${med(k, "rssMb").toFixed(0).padStart(5)} MB`;
    console.log(
      `kubernetes pod-kill, 10% selected at random, grace period 0 (median of ${ROUNDS} chaos run processes)`,
    );
    console.log(
      `load average after measuring: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs (wall time suffers first)`,
    );
    console.log("namespace        killed   wall time   CPU time   peak RSS");
    console.log(line("100 pods (base)  ", "small"));
    console.log(line("10,000 pods      ", "large"));
    console.log(
      `ratio to base: time ${(tLarge / tSmall).toFixed(2)}×, RSS ${(rLarge / rSmall).toFixed(2)}×; targets ≤ ${TARGET_SECONDS} s and ≤ ${TARGET_RSS_MB} MB: ${ok ? "met" : "MISSED"}`,
    );
  } finally {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
}

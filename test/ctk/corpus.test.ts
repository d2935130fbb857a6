import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import { type Stack, startStack } from "../../examples/target-app/stack.js";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import { writeKubeconfig } from "../support/kube-api/kubeconfig.js";
import { KubeApiServer } from "../support/kube-api/server.js";
import { startTestPrometheus } from "../support/prometheus.js";

/**
 * Chaos Toolkit experiments written for the sample app (test/ctk/corpus/), run as they are with `chaos run`
 * and converted with `chaos import`: each gives its expected verdict, and its conversion validates and gives
 * the same one. One resilient app serves them all, one experiment at a time (several CLI processes at once
 * on a small machine make the runs, not the app, slow); each original runs while it is being converted.
 * The chaosk8s experiments run against the test API server, whose pods stand for the app's (web, payments,
 * a finished batch job with its logs, a failed migration in another namespace), the chaosprometheus one
 * against a Prometheus scraping the app: they are short and run two at a time, in one test.
 */
const CORPUS = join(import.meta.dirname, "corpus");
const strategy = (s: string) => ["--hypothesis-strategy", s, "--hypothesis-frequency", "0.5"];
const CONTINUOUSLY = strategy("continuously");

interface Case {
  file: string;
  flags?: string[];
  exit: number;
  /** Text the verdict must say. */
  says?: RegExp;
  /** Text the run of the original must say exactly once (global). */
  once?: RegExp;
}

/** chaosk8s probes and actions against the test API server; chaosprometheus against a real Prometheus. */
const K8S_CASES: Case[] = [
  { file: "21-prometheus-interval.yaml", exit: 0 },
  { file: "17-k8s-pods-in-phase.yaml", exit: 0 },
  { file: "18-k8s-not-in-phase.json", exit: 0 },
  { file: "19-k8s-scale-deviates.yaml", exit: 1, says: /DEVIATED/ },
  { file: "20-k8s-raises-not-steady.json", exit: 1, says: /NOT STEADY[\s\S]*pods_in_phase raised/ },
  { file: "22-k8s-logs-conditions.yaml", exit: 0 },
  { file: "23-k8s-unhealthy-not-steady.json", exit: 1, says: /NOT STEADY[\s\S]*all_pods_healthy raised/ },
];

const CASES: Case[] = [
  { file: "01-http-status.json", exit: 0 },
  { file: "02-http-status-list.yaml", exit: 0 },
  { file: "03-jsonpath-expect.json", exit: 0 },
  { file: "04-jsonpath-count-filter.yaml", exit: 0 },
  { file: "05-regex-body.json", exit: 0 },
  { file: "06-range-stdout.yaml", exit: 0 },
  { file: "07-process-status.json", exit: 0 },
  { file: "08-bool-never-matches-output.yaml", exit: 1, says: /NOT STEADY/ },
  { file: "09-string-tolerance.json", exit: 1, says: /NOT STEADY/ },
  { file: "10-toxi-latency.yaml", exit: 0 },
  { file: "11-toxi-proxy-down.json", exit: 1, says: /DEVIATED/ },
  {
    file: "12-safeguard-holds.yaml",
    exit: 0,
    once: /control "tracing" \(chaostracing.control\) has no equivalent and is ignored/g,
  },
  { file: "13-safeguard-trips.json", exit: 3, says: /safeguard: checkout still works/ },
  { file: "14-background-ref.yaml", exit: 0 },
  { file: "15-config-secrets-vars.json", exit: 0 },
  { file: "16-default-strategy.json", flags: [], exit: 1, says: /--hypothesis-strategy continuously/ },
  // Probe tolerances: a process judging the output it is given, and an HTTP one that cannot answer.
  { file: "24-probe-tolerance-process.yaml", exit: 0 },
  {
    file: "25-probe-tolerance-http.json",
    exit: 1,
    says: /DEVIATED[\s\S]*tolerance probe "orders takes it" did not return/,
  },
  { file: "16-default-strategy.json", flags: ["--accept-unobserved"], exit: 0 },
  // The other hypothesis strategies: only the phases chaoslib/run.py checks for each.
  { file: "11-toxi-proxy-down.json", flags: strategy("during-method-only"), exit: 1, says: /DEVIATED/ },
  {
    file: "10-toxi-latency.yaml",
    flags: strategy("during-method-only"),
    exit: 0,
    says: /held during the method/,
  },
  {
    file: "10-toxi-latency.yaml",
    flags: ["--hypothesis-strategy", "before-method-only"],
    exit: 1,
    says: /NOT OBSERVED/,
  },
  {
    file: "10-toxi-latency.yaml",
    flags: ["--hypothesis-strategy", "after-method-only", "--accept-unobserved"],
    exit: 0,
    says: /held after the method \(before: none; during: none/,
  },
];

describe("Chaos Toolkit experiments against the sample app", () => {
  let stack: Stack;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let kube: KubeApiServer;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    await ensureCliBuilt();
    work = mkdtempSync(join(tmpdir(), "chaos-ctk-corpus-"));
    stack = await startStack({ load: false, runDir: join(work, "app") });
    kube = await new KubeApiServer({ recreateMs: 100, readyMs: 100 }).start();
    kube.addDeployment("shop", "web", 2);
    kube.addDeployment("shop", "payments", 3);
    kube.addDeployment("shop", "orders", 2);
    kube.addPods("shop", "batch", 2, { app: "batch" }, { phase: "Succeeded" });
    kube.logs.write("shop", "batch-0", "app", "processed 120 orders\ndone");
    kube.logs.write("shop", "batch-1", "app", "processed 80 orders\ndone");
    // A namespace whose database migration failed: all_pods_healthy says it is not.
    kube.addPods("jobs", "report", 1, { app: "report" });
    kube.addPods("jobs", "migrate", 1, { app: "migrate" }, { phase: "Failed", reason: "Error" });
    prometheus = await startTestPrometheus(stack.metricsTargets);
    const toxiproxy = new URL(stack.toxiproxyUrl);
    env = {
      XDG_STATE_HOME: join(work, "state"),
      WEB_URL: stack.urls.web,
      TOXIPROXY_URL: stack.toxiproxyUrl,
      TOXIPROXY_HOST: toxiproxy.hostname,
      TOXIPROXY_PORT: toxiproxy.port,
      PAYMENTS_PID_FILE: stack.pidFiles.payments,
      CTK_TOKEN: "token-for-the-corpus",
      KUBECONFIG: await writeKubeconfig(work, kube.url, kube.token),
      PROMETHEUS_URL: prometheus.url,
      ORDERS_PROXY_URL: `http://${stack.proxies.find((p) => p.name === "web-orders")!.listen}`,
    };
    // The range queries need every target scraped at least once.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await fetch(
        `${prometheus.url}/api/v1/query?query=${encodeURIComponent('up{job="targets"}')}`,
      );
      const body = (await r.json()) as { data?: { result?: unknown[] } };
      if ((body.data?.result?.length ?? 0) >= stack.metricsTargets.length) break;
      if (Date.now() > deadline) throw new Error("Prometheus never scraped the sample app");
      await new Promise((res) => setTimeout(res, 200));
    }
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await kube?.close();
    await prometheus?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the corpus covers at least 15 experiments", () => {
    expect(readdirSync(CORPUS).length).toBeGreaterThanOrEqual(15);
  });

  const check = async (c: Case, i: number) => {
    const flags = c.flags ?? CONTINUOUSLY;
    const vars = c.file.startsWith("15") ? ["--var", `web_url=${stack.urls.web}`] : [];
    const run = (file: string, extra: string[], label: string) =>
      runCli(
        [
          "run",
          file,
          ...extra,
          ...vars,
          "--no-reports",
          "--ledger",
          join(work, "ledger"),
          "--journal",
          join(work, `${i}-${label}`, "journal.json"),
        ],
        { env, timeoutMs: 60_000 },
      );
    const converted = join(work, `${i}-${c.file.replace(/\.\w+$/, "")}.yaml`);
    // `chaos import` checks what it writes as `chaos validate` would.
    const [original, imported] = await Promise.all([
      run(join(CORPUS, c.file), flags, "ctk"),
      runCli(["import", join(CORPUS, c.file), "--out", converted, ...flags], { env, timeoutMs: 60_000 }),
    ]);
    expect(original.code, original.stdout + original.stderr).toBe(c.exit);
    if (c.says) expect(original.stdout + original.stderr).toMatch(c.says);
    if (c.once) expect((original.stdout + original.stderr).match(c.once)).toHaveLength(1);
    expect(imported.code, imported.stderr).toBe(0);
    expect(readFileSync(converted, "utf8").split("\n")[0]).toMatch(
      /^# yaml-language-server: \$schema=.*experiment\.schema\.json$/,
    );
    const again = await run(converted, [], "ours");
    expect(again.code, again.stdout + again.stderr).toBe(c.exit);
  };
  const title = (c: Case) =>
    `${c.file} ${(c.flags ?? CONTINUOUSLY).join(" ")}: exit ${c.exit}, and its conversion gives the same`;

  CASES.forEach((c, i) => {
    test(title(c), () => check(c, i), 120_000);
  });

  test(`chaosk8s and chaosprometheus: ${K8S_CASES.map((c) => `${c.file} exit ${c.exit}`).join(", ")}; their conversions give the same`, async () => {
    // Two at a time: each case is already two CLI processes at once (the run and the import).
    const queue = K8S_CASES.map((c, i) => () => check(c, CASES.length + i));
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await next();
    };
    await Promise.all([worker(), worker()]);
  }, 240_000);
});

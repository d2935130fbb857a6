import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import { startPrometheus } from "../../examples/target-app/prometheus-server.js";
import type { Journal } from "../../src/experiments/journal.js";
import { ensureCliBuilt, runCli, startCli } from "../support/cli.js";
import { requirePrometheus, waitForQuery } from "../support/prometheus.js";
import {
  describeWithPushgateway,
  type RunningPushgateway,
  startPushgateway,
} from "../support/pushgateway.js";

let dir: string;
let gateway: RunningPushgateway;
let prometheus: RunningPrometheus;
let sleeper: ChildProcess;
let sleeperPidFile: string;

beforeAll(ensureCliBuilt, 180_000);

beforeAll(async () => {
  gateway = await startPushgateway();
  // Scraped every second; honor_labels keeps the pushed `job` and `experiment`, as for any Pushgateway.
  prometheus = await startPrometheus({
    binary: requirePrometheus(),
    scrapeTargets: [],
    scrapeInterval: "1s",
    extraScrapeConfigs: [
      { job_name: "pushgateway", honor_labels: true, static_configs: [{ targets: [gateway.target] }] },
    ],
  });
  sleeper = spawn("sleep", ["300"], { stdio: "ignore" });
}, 60_000);

afterAll(async () => {
  sleeper?.kill("SIGKILL");
  await Promise.all([gateway?.stop(), prometheus?.stop()]);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-metrics-"));
  sleeperPidFile = join(dir, "sleeper.pid");
  await writeFile(sleeperPidFile, String(sleeper.pid));
});

afterEach(async () => {
  if (!process.env.KEEP) await rm(dir, { recursive: true, force: true });
});

const journalPath = () => join(dir, "journal.json");
const readJournal = () => JSON.parse(readFileSync(journalPath(), "utf8")) as Journal;
const args = () => ["--ledger", join(dir, "ledger"), "--journal", journalPath(), "--no-reports"];
/** A settings folder of the test's own, so that the user's real settings never take part. */
const isolated = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  XDG_CONFIG_HOME: join(dir, "config"),
  CHAOS_PUSHGATEWAY_URL: "",
  ...extra,
});

async function write(title: string, body: string): Promise<string> {
  const file = join(dir, "experiment.yaml");
  await writeFile(file, `version: 1\ntitle: ${title}\n${body}`);
  return file;
}

function freeze(duration: string): string {
  return `method:
  - action: process.suspend
    name: freeze the sleeper
    target: { pid-file: "${sleeperPidFile}" }
    duration: ${duration}
`;
}

/** The value of a one-series instant vector, or undefined when it is empty. */
const sampleOf = (result: unknown): number | undefined => {
  const series = result as { value: [number, string] }[];
  return series.length === 1 ? Number(series[0]!.value[1]) : undefined;
};

/** A server that takes every request and never answers, or answers 500. */
async function brokenGateway(mode: "hanging" | "failing"): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    if (mode === "failing") res.writeHead(500).end("broken");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describeWithPushgateway("run metrics on a Pushgateway", () => {
  it("PromQL sees the run's verdict and the fault's active window, as pushed from CHAOS_PUSHGATEWAY_URL", async () => {
    const title = "metrics held run";
    const file = await write(title, freeze("8s"));
    const cli = startCli(["run", file, ...args()], {
      env: isolated({ CHAOS_PUSHGATEWAY_URL: gateway.url }),
      timeoutMs: 40_000,
    });
    const fault = `chaos_fault_active{experiment="${title}",action="process.suspend"}`;
    // While the fault is live (8 s, eight scrape intervals), Prometheus scrapes it as 1.
    const live = await waitForQuery(prometheus.url, fault, (r) => sampleOf(r) === 1, 20_000);
    expect(cli.child.exitCode).toBeNull();
    expect((live as { metric: Record<string, string> }[])[0]!.metric.target).toContain("sleeper.pid");
    const r = await cli.result;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const j = readJournal();
    expect(j.notSent).toBeUndefined();
    // No hypothesis: a plain injection, `completed`.
    await waitForQuery(
      prometheus.url,
      `chaos_run_verdict{experiment="${title}",verdict="completed"}`,
      (res) => {
        return sampleOf(res) === 1;
      },
    );
    await waitForQuery(prometheus.url, fault, (res) => sampleOf(res) === 0);
    const info = await waitForQuery(
      prometheus.url,
      `chaos_run_info{experiment="${title}"}`,
      (res) => sampleOf(res) === 1,
    );
    expect((info as { metric: Record<string, string> }[])[0]!.metric.run_id).toBe(j.runId);
    // The window: the fault was 1 for several scrapes, and 0 after it was reverted.
    const window = await waitForQuery(
      prometheus.url,
      `count_over_time((${fault} == 1)[2m:1s])`,
      (res) => (sampleOf(res) ?? 0) >= 3,
    );
    expect(sampleOf(window)).toBeLessThanOrEqual(12);
    const duration = await waitForQuery(
      prometheus.url,
      `chaos_run_duration_seconds{experiment="${title}"}`,
      (res) => sampleOf(res) !== undefined && Math.abs(sampleOf(res)! - j.durationMs / 1000) < 0.01,
    );
    expect(sampleOf(duration)).toBeGreaterThanOrEqual(8);
    expect(j.score).toBe(undefined);
  }, 90_000);

  it("takes the Pushgateway from the experiment, and from the settings file; a judged run's score is pushed", async () => {
    const title = "metrics from the files";
    const file = await write(
      title,
      `metrics: { pushgateway: "${gateway.url}" }
steady-state:
  probes:
    - name: sleeper runs
      process.running: { pid-file: "${sleeperPidFile}" }
      tolerance: true
  during: none
${freeze("300ms")}`,
    );
    const r = await runCli(["run", file, ...args()], { env: isolated(), timeoutMs: 25_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const j = readJournal();
    expect(j.score).toBe(100);
    await waitForQuery(prometheus.url, `chaos_run_verdict{experiment="${title}",verdict="held"}`, (res) => {
      return sampleOf(res) === 1;
    });
    await waitForQuery(
      prometheus.url,
      `chaos_run_score{experiment="${title}"}`,
      (res) => sampleOf(res) === j.score,
    );

    // The same experiment without `metrics:`, the Pushgateway named only in the user's settings file.
    await mkdir(join(dir, "config", "chaoskit"), { recursive: true });
    await writeFile(
      join(dir, "config", "chaoskit", "settings.yaml"),
      `metrics:\n  pushgateway: ${gateway.url}\n`,
    );
    const second = await write(title, freeze("100ms"));
    const r2 = await runCli(["run", second, ...args()], { env: isolated(), timeoutMs: 25_000 });
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    await waitForQuery(
      prometheus.url,
      `chaos_run_info{experiment="${title}",run_id="${readJournal().runId}"}`,
      (res) => {
        return sampleOf(res) === 1;
      },
    );
  }, 90_000);

  it("changes nothing about the verdict, the revert or the exit when the Pushgateway hangs or fails", async () => {
    const file = await write("metrics broken gateway", freeze("300ms"));
    // A baseline without metrics, measured here on this machine.
    let started = Date.now();
    const base = await runCli(["run", file, ...args()], { env: isolated(), timeoutMs: 25_000 });
    const baselineMs = Date.now() - started;
    expect(base.code, base.stdout + base.stderr).toBe(0);
    const baseFault = readJournal().faults[0]!;
    const baseWindow = Date.parse(baseFault.revertedAt!) - Date.parse(baseFault.appliedAt);

    for (const mode of ["hanging", "failing"] as const) {
      const broken = await brokenGateway(mode);
      try {
        started = Date.now();
        const r = await runCli(["run", file, ...args()], {
          env: isolated({ CHAOS_PUSHGATEWAY_URL: broken.url, CHAOS_PUSHGATEWAY_TIMEOUT_MS: "1500" }),
          timeoutMs: 25_000,
        });
        const took = Date.now() - started;
        expect(r.code, r.stdout + r.stderr).toBe(0);
        const j = readJournal();
        expect(j.status).toBe("completed");
        expect(j.rollbacks[0]).toMatchObject({ status: "succeeded" });
        const f = j.faults[0]!;
        // The revert came as on time as without metrics; the end waited at most the push timeout.
        expect(Date.parse(f.revertedAt!) - Date.parse(f.appliedAt)).toBeLessThan(baseWindow + 1_000);
        expect(took).toBeLessThan(baselineMs + 1_500 + 3_000);
        expect(j.notSent?.join("\n")).toMatch(
          mode === "hanging"
            ? /^metrics: \d+ of \d+ pushes to http:\/\/127\.0\.0\.1:\d+\/ failed: no answer within 1500 ms/
            : /^metrics: \d+ of \d+ pushes to http:\/\/127\.0\.0\.1:\d+\/ failed: HTTP 500 broken/,
        );
      } finally {
        await broken.close();
      }
    }
  }, 90_000);

  it("runs on when the default settings file cannot be read, and stops with exit 2 when it is wrong", async () => {
    const file = await write("metrics settings", freeze("100ms"));
    // A folder where the file should be: unreadable for anyone, root included.
    await mkdir(join(dir, "config", "chaoskit", "settings.yaml"), { recursive: true });
    const r = await runCli(["run", file, ...args()], { env: isolated(), timeoutMs: 25_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await rm(join(dir, "config", "chaoskit", "settings.yaml"), { recursive: true });
    await writeFile(join(dir, "config", "chaoskit", "settings.yaml"), "metrics: { pushgateway: 42 }\n");
    const bad = await runCli(["run", file, ...args()], { env: isolated(), timeoutMs: 25_000 });
    expect(bad.code, bad.stdout + bad.stderr).toBe(2);
    expect(bad.stderr).toContain("settings.yaml: metrics: expected { pushgateway: http(s)://… }");
  }, 60_000);
});

import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import type { Journal } from "../../src/experiments/journal.js";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import { describeWithPrometheus, startTestPrometheus } from "../support/prometheus.js";
import { startTarget, type Target } from "../support/target.js";

/**
 * A stop condition whose probe sees nothing (an empty result, null, NaN) cannot tell that its condition is
 * not met: in real life the series of an error ratio vanishes exactly when the service dies. Such a check
 * stops the run unless the condition says `empty: continue`, `nan: continue` or `on-error: continue`.
 */

let dir: string;
let metrics: Server;
let metricsUrl: string;

beforeAll(async () => {
  await ensureCliBuilt();
  // An endpoint that answers, but without the field the stop condition reads.
  metrics = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ requests: 10 }));
  });
  await new Promise<void>((r) => metrics.listen(0, "127.0.0.1", r));
  metricsUrl = `http://127.0.0.1:${(metrics.address() as { port: number }).port}/stats`;
}, 180_000);

afterAll(async () => {
  metrics.closeAllConnections();
  await new Promise<void>((r) => metrics.close(() => r()));
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-stop-blind-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const journalPath = () => join(dir, "journal.json");
const readJournal = () => JSON.parse(readFileSync(journalPath(), "utf8")) as Journal;

async function write(stopWhen: string, method = "  - pause: 4s\n", head = ""): Promise<string> {
  const file = join(dir, "experiment.yaml");
  await writeFile(
    file,
    `version: 1
title: a stop condition that cannot see
${head}stop-when:
${stopWhen}
method:
${method}`,
  );
  return file;
}

function run(file: string) {
  return runCli(["run", file, "--ledger", join(dir, "ledger"), "--journal", journalPath(), "--no-reports"], {
    timeoutMs: 30_000,
  });
}

const missingField = (extra = "") => `  - name: error ratio too high
    probe:
      http: { url: "${metricsUrl}", json-path: $.missing, timeout: 2s }
    when: "> 0.5"
    every: 200ms
${extra}`;

describe("a stop condition over an HTTP field that is missing", () => {
  let target: Target;
  beforeEach(async () => {
    target = await startTarget();
  });
  afterEach(async () => {
    await target.stop();
  });

  it("stops the run as aborted (exit 3) and reverts the live fault, instead of passing it as not met", async () => {
    const file = await write(
      missingField(),
      `  - action: process.suspend
    name: freeze the target
    target: { pid-file: "${target.pidFile}" }
    duration: 10s
`,
    );
    const r = await run(file);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const j = readJournal();
    expect(j.status).toBe("aborted");
    expect(j.reasons[0]).toBe(
      'stopped: could not see: stop condition "error ratio too high" saw an empty result: empty result',
    );
    expect(j.stopConditions[0]).toMatchObject({ probe: "error ratio too high", outcome: "empty", ok: false });
    expect(j.checks?.stopConditions.failed).toBe(1);
    // The freeze was cut short by the blind check, long before its 10 s, and undone.
    expect(j.method[0]).toMatchObject({ status: "aborted" });
    expect(j.method[0]!.durationMs).toBeLessThan(8000);
    expect(j.rollbacks).toEqual([expect.objectContaining({ source: "automatic", status: "succeeded" })]);
    expect(await target.conts()).toBe(1);
  });

  it("continues when the condition says empty: continue, and the verdict says how often it was blind", async () => {
    const r = await run(await write(missingField("    empty: continue\n"), "  - pause: 700ms\n"));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const j = readJournal();
    expect(j.status).toBe("completed");
    const n = j.stopConditions.length;
    expect(n).toBeGreaterThanOrEqual(1);
    expect(j.stopConditions.every((c) => c.outcome === "empty" && !c.ok)).toBe(true);
    expect(j.reasons).toContain(
      `stop condition "error ratio too high" could not be checked ${n} of ${n} times (empty result)`,
    );
  });

  it("is described by chaos validate: what stops the run and what it continues blind on", async () => {
    const a = await runCli(["validate", await write(missingField())]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain(
      'stop condition "error ratio too high" stops the run on an error, no answer, an empty result or NaN',
    );
    const b = await runCli([
      "validate",
      await write(missingField("    on-error: continue\n    nan: stop\n")),
    ]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toContain(
      'stop condition "error ratio too high" stops the run on NaN; continues blind on an error, no answer or an empty result',
    );
  });
});

describeWithPrometheus("a stop condition over PromQL that yields nothing or NaN (real Prometheus)", () => {
  let prometheus: RunningPrometheus;
  beforeAll(async () => {
    prometheus = await startTestPrometheus([]);
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
  });

  const config = () => `configuration:\n  prometheus:\n    url: "${prometheus.url}"\n`;
  const promql = (query: string, extra = "") => `  - name: error ratio too high
    probe:
      prometheus: { query: '${query}' }
    when: "> 0.5"
    every: 200ms
${extra}`;

  it("stops the run (exit 3) when the query returns an empty vector", async () => {
    const r = await run(await write(promql('up{job="no-such-job"}'), undefined, config()));
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const j = readJournal();
    expect(j.reasons[0]).toMatch(
      /^stopped: could not see: stop condition "error ratio too high" saw an empty result/,
    );
    expect(j.stopConditions[0]).toMatchObject({ outcome: "empty", ok: false });
    expect(j.method[0]).toMatchObject({ status: "aborted" });
  });

  it("stops the run (exit 3) when the query returns NaN, and continues only when told nan: continue", async () => {
    const stopped = await run(await write(promql("vector(0) / 0"), undefined, config()));
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(3);
    expect(readJournal().reasons[0]).toMatch(/stop condition "error ratio too high" saw NaN/);

    const told = await run(
      await write(promql("vector(0) / 0", "    nan: continue\n"), "  - pause: 700ms\n", config()),
    );
    expect(told.code, told.stdout + told.stderr).toBe(0);
    const j = readJournal();
    expect(j.stopConditions.length).toBeGreaterThanOrEqual(1);
    expect(j.stopConditions.every((c) => c.outcome === "nan" && !c.ok)).toBe(true);
    expect(j.reasons.join("\n")).toMatch(
      /stop condition "error ratio too high" could not be checked \d+ of \d+ times/,
    );
  });
});

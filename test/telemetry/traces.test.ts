import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { ensureCliBuilt, runCli, startCli } from "../support/cli.js";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../support/otlp-receiver.js";
import { procState, type Switch, startSwitch, startTarget, type Target } from "../support/target.js";

let dir: string;
let target: Target;
let toggle: Switch;
let receiver: OtlpReceiver;
let sleeper: ChildProcess;
let sleeperPidFile: string;

beforeAll(ensureCliBuilt, 180_000);

beforeAll(async () => {
  [target, toggle] = await Promise.all([startTarget(), startSwitch()]);
  sleeper = spawn("sleep", ["120"], { stdio: "ignore" });
});

afterAll(async () => {
  sleeper.kill("SIGKILL");
  await Promise.all([target.stop(), toggle.close()]);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-traces-"));
  sleeperPidFile = join(dir, "sleeper.pid");
  await writeFile(sleeperPidFile, String(sleeper.pid));
  receiver = await startOtlpReceiver();
  toggle.set(200);
});

afterEach(async () => {
  await receiver.close();
  if (!process.env.KEEP) await rm(dir, { recursive: true, force: true });
});

const journalPath = () => join(dir, "journal.json");
const readJournal = () => JSON.parse(readFileSync(journalPath(), "utf8")) as Journal;

async function write(body: string): Promise<string> {
  const file = join(dir, "experiment.yaml");
  await writeFile(file, `version: 1\ntitle: traced run\n${body}`);
  return file;
}

function tracedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_SERVICE_NAME: "chaos-ci",
    OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=staging",
    ...extra,
  };
}

const args = () => ["--ledger", join(dir, "ledger"), "--journal", journalPath(), "--no-reports"];

/** The target's health as the hypothesis; probe timeouts are generous, as the machine may be loaded. */
function steadyState(during: string): string {
  return `steady-state:
  probes:
    - name: target answers
      http: { url: "${target.url}/health", timeout: 1s }
      tolerance: { status: 200 }
  during: ${during}
`;
}

/** The run's spans as a tree: each span's children by name, with the parent links checked on the way. */
function tree(spans: ReceivedSpan[]) {
  const root = spans.find((s) => s.name === "experiment");
  if (!root) throw new Error(`no experiment span among ${spans.map((s) => s.name).join(", ")}`);
  const children = (s: ReceivedSpan) => spans.filter((c) => c.parentSpanId === s.spanId);
  const child = (s: ReceivedSpan, name: string, attr?: [string, unknown]) => {
    const found = children(s).find((c) => c.name === name && (!attr || c.attributes[attr[0]] === attr[1]));
    if (!found)
      throw new Error(
        `no "${name}" under "${s.name}": ${children(s)
          .map((c) => c.name)
          .join(", ")}`,
      );
    return found;
  };
  for (const s of spans) expect(s.traceId).toBe(root.traceId);
  return { root, children, child };
}

/** A method step that suspends the process of `pidFile` (for `duration`, else until the rollbacks). */
function freeze(name: string, pidFile: string, duration?: string): string {
  const step = `  - action: process.suspend\n    name: ${name}\n    target: { pid-file: "${pidFile}" }\n`;
  return duration ? `${step}    duration: ${duration}\n` : step;
}

const complete = (spans: ReceivedSpan[]) => spans.some((s) => s.name === "experiment");

describe("a traced run", () => {
  it("exports a held run as experiment → hypothesis/method/rollbacks → checks and the fault, with its attributes", async () => {
    const file = await write(`${steadyState("{ every: 100ms }")}
method:
${freeze("freeze the sleeper", sleeperPidFile, "400ms")}`);
    const r = await runCli(["run", file, ...args()], { env: tracedEnv(), timeoutMs: 25_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const spans = await receiver.waitFor(complete);
    const { root, children, child } = tree(spans);
    const j = readJournal();
    expect(root.service).toBe("chaos-ci");
    expect(root.attributes).toMatchObject({
      "chaos.experiment.title": "traced run",
      "chaos.run.id": j.runId,
      "chaos.run.verdict": "held",
      "chaos.run.exit_code": 0,
      "chaos.run.score": 100,
    });
    expect(root.status.code).not.toBe(2);
    const before = child(root, "hypothesis", ["chaos.phase", "before"]);
    const beforeCheck = child(before, "activity: target answers");
    expect(beforeCheck.attributes).toMatchObject({
      "chaos.phase": "before",
      "chaos.probe.key": "http",
      "chaos.tolerance": JSON.stringify({ status: 200 }),
      "chaos.outcome": "pass",
    });
    const method = child(root, "method");
    const fault = child(method, "fault: freeze the sleeper");
    expect(fault.attributes).toMatchObject({
      "chaos.action": "process.suspend",
      "chaos.fault.reverted": true,
    });
    expect(String(fault.attributes["chaos.target"])).toContain("sleeper.pid");
    expect(fault.events.map((e) => e.name)).toEqual(["applied", "reverted"]);
    expect(fault.endMs - fault.startMs).toBeGreaterThanOrEqual(390);
    const during = children(method).filter((c) => c.attributes["chaos.phase"] === "during");
    expect(during.length).toBe(j.steadyState.during.length);
    expect(during.length).toBeGreaterThan(0);
    expect(child(method, "activity: freeze the sleeper").attributes["chaos.activity.status"]).toBe(
      "succeeded",
    );
    child(root, "hypothesis", ["chaos.phase", "after"]);
    // Every span lies within the run's.
    for (const s of spans) {
      expect(s.startMs).toBeGreaterThanOrEqual(root.startMs - 1);
      expect(s.endMs).toBeLessThanOrEqual(root.endMs + 1);
    }
    expect(j.notSent).toBeUndefined();
  }, 40_000);

  it("marks a deviated run and its failed checks, under the CI job's trace given in TRACEPARENT", async () => {
    const file = await write(`${steadyState("{ every: 100ms }")}
method:
${freeze("freeze the target", target.pidFile, "2500ms")}`);
    const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const r = await runCli(["run", file, ...args()], {
      env: tracedEnv({ TRACEPARENT: parent }),
      timeoutMs: 25_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const { root, children, child } = tree(await receiver.waitFor(complete));
    expect(root.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(root.parentSpanId).toBe("b7ad6b7169203331");
    expect(root.attributes["chaos.run.verdict"]).toBe("deviated");
    expect(root.status.code).toBe(2);
    const failed = children(child(root, "method")).filter(
      (c) => c.attributes["chaos.phase"] === "during" && c.attributes["chaos.probe.ok"] === false,
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.attributes["chaos.outcome"]).not.toBe("pass");
  }, 40_000);

  it("shows an aborted run: the abort as an event, the fault reverted in the rollbacks", async () => {
    const file = await write(`${steadyState("none")}
stop-when:
  - name: kill switch
    probe:
      http: { url: "${toggle.url}", timeout: 1s }
    when: { status: 503 }
    every: 100ms
method:
${freeze("freeze the sleeper", sleeperPidFile)}  - pause: 20s
`);
    const cli = startCli(["run", file, ...args()], { env: tracedEnv(), timeoutMs: 25_000 });
    // Pull the switch once the fault is live (the sleeper stopped).
    for (let i = 0; i < 200 && procState(sleeper.pid!) !== "T"; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(procState(sleeper.pid!)).toBe("T");
    toggle.set(503);
    const r = await cli.result;
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const { root, child } = tree(await receiver.waitFor(complete));
    expect(root.attributes["chaos.run.verdict"]).toBe("aborted");
    expect(root.events.map((e) => e.name)).toContain("aborted");
    const method = child(root, "method");
    const fault = child(method, "fault: freeze the sleeper");
    expect(fault.events.map((e) => e.name)).toEqual(["applied", "reverted"]);
    const rollbacks = child(root, "rollbacks");
    expect(fault.endMs).toBeGreaterThanOrEqual(rollbacks.startMs);
    const stop = child(method, "activity: kill switch", ["chaos.outcome", "fail"]);
    expect(stop.attributes["chaos.phase"]).toBe("stop-when");
  }, 40_000);

  it("sends each probe request with a traceparent naming its check's span, as the target sees it", async () => {
    const seen: string[] = [];
    const recorder = createServer((req, res) => {
      seen.push(String(req.headers.traceparent ?? ""));
      res.writeHead(200).end("ok");
    });
    await new Promise<void>((r) => recorder.listen(0, "127.0.0.1", r));
    try {
      const { port } = recorder.address() as { port: number };
      const file = await write(`steady-state:
  probes:
    - name: recorder answers
      http: { url: "http://127.0.0.1:${port}/", timeout: 1s }
      tolerance: { status: 200 }
  during: none
method:
${freeze("freeze the sleeper", sleeperPidFile, "100ms")}`);
      const r = await runCli(["run", file, ...args()], { env: tracedEnv(), timeoutMs: 25_000 });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const { root, child } = tree(await receiver.waitFor(complete));
      const checks = [
        child(child(root, "hypothesis", ["chaos.phase", "before"]), "activity: recorder answers"),
        child(child(root, "hypothesis", ["chaos.phase", "after"]), "activity: recorder answers"),
      ];
      expect(seen).toEqual(checks.map((c) => `00-${root.traceId}-${c.spanId}-01`));
    } finally {
      recorder.closeAllConnections();
      await new Promise((r) => recorder.close(r));
    }
  }, 40_000);

  it("changes nothing about the verdict when the collector is down, and notes in the journal what was lost", async () => {
    await receiver.close();
    const hanging = await startOtlpReceiver("hanging");
    try {
      const file = await write(`${steadyState("none")}
method:
${freeze("freeze the sleeper", sleeperPidFile, "200ms")}`);
      const started = Date.now();
      const r = await runCli(["run", file, ...args()], {
        env: {
          ...tracedEnv(),
          OTEL_EXPORTER_OTLP_ENDPOINT: hanging.endpoint,
          OTEL_EXPORTER_OTLP_TIMEOUT: "1500",
        },
        timeoutMs: 25_000,
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const j = readJournal();
      expect(j.status).toBe("held");
      expect(j.rollbacks[0]).toMatchObject({ status: "succeeded" });
      expect(j.notSent?.join("\n")).toMatch(
        /^traces: \d+ of \d+ spans were not sent to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/,
      );
      // The fault's revert came on time: the collector held up only the end, and only for its timeout.
      expect(Date.parse(j.faults[0]!.revertedAt!) - Date.parse(j.faults[0]!.appliedAt)).toBeLessThan(1_500);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(hanging.requests()).toBeGreaterThan(0);
    } finally {
      await hanging.close();
    }
  }, 40_000);
});

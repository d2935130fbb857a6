import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Registry } from "../../src/agents/registry.js";
import { executeExperiment } from "../../src/experiments/execute.js";
import { Ledger } from "../../src/experiments/ledger.js";
import { recoverFromLedger } from "../../src/experiments/recover.js";
import { type Answer, RecordedAnswers } from "../../src/gameday/answers.js";
import { loadRunbook } from "../../src/gameday/load.js";
import { GameDayRunner } from "../../src/gameday/runner.js";
import { memoryAgent } from "../support/memory-agent.js";

/**
 * The GameDay state machine with real parts: runbooks and experiments loaded from files, experiments run by
 * the controller through the same function `chaos run` uses, against the in-memory agent, so the test sees
 * exactly which faults were applied and whether any is still live.
 */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-gameday-runner-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const log = pino({ level: "silent" });

async function gameDay(
  runbook: string,
  experiments: Record<string, string>,
  answers: Record<string, string> = {},
) {
  const mem = memoryAgent();
  const registry = new Registry([mem.agent]);
  for (const [name, yaml] of Object.entries(experiments))
    await writeFile(join(dir, name), `version: 1\ntitle: ${name}\n${yaml}`);
  await writeFile(join(dir, "runbook.yaml"), `title: t\n${runbook}`);
  const loaded = await loadRunbook(join(dir, "runbook.yaml"), { registry, env: {} });
  const ledger = new Ledger(join(dir, "ledger"));
  const session = new AbortController();
  const runIds: string[] = [];
  const leftovers: string[] = [];
  const runner = new GameDayRunner(loaded, {
    id: "test",
    toolVersion: "test",
    mode: "answers",
    interaction: new RecordedAnswers(
      new Map<string, Answer>(Object.entries(answers).map(([k, v]) => [k, { value: v }])),
      false,
      "tester",
      () => undefined,
    ),
    signal: session.signal,
    relative: (p) => relative(dir, p),
    runExperiment: (experiment, label, signal) => {
      const runId = `run-${runIds.length + 1}`;
      runIds.push(runId);
      return executeExperiment(experiment, {
        registry,
        log,
        ledger,
        toolVersion: "test",
        runId,
        journalPath: join(dir, label, "journal.json"),
        reports: false,
        guard: (controller) => {
          const stop = () => controller.abort("signal", String(signal.reason));
          signal.addEventListener("abort", stop, { once: true });
          return () => signal.removeEventListener("abort", stop);
        },
      });
    },
    revertLeftovers: async () => {
      for (const runId of runIds)
        leftovers.push(...(await recoverFromLedger({ ledger, registry, log, runId })).map((r) => r.entry.id));
      return [];
    },
  });
  const ledgerFiles = () =>
    existsSync(ledger.dir) ? readdirSync(ledger.dir).filter((f) => f.endsWith(".json")) : [];
  return { runner, state: mem.state, session, ledgerFiles, leftovers };
}

const FAULT = (id: string, extra = "") => `steady-state:
  probes:
    - { name: gauge low, memory.gauge: {}, tolerance: "< 10" }
  during: none
method:
  - action: memory.fault
    target: { id: ${id} }
    duration: 20ms
${extra}`;

describe("a GameDay", () => {
  it("ends cleanly at a no-go: the experiments after it never run, and the exit code judges the ones that did", async () => {
    const g = await gameDay(
      "steps:\n  - { id: a, experiment: a.yaml, expect: held }\n  - { id: go, decide: go on? }\n  - { id: b, experiment: b.yaml, expect: held }\n",
      { "a.yaml": FAULT("a"), "b.yaml": FAULT("b") },
      { go: "no-go" },
    );
    const r = await g.runner.run();
    expect(g.state.applyOrder).toEqual(["a"]);
    expect(r).toMatchObject({ status: "no-go", exitCode: 0 });
    expect(r.timeline.map((e) => [e.step, e.decision])).toEqual([
      ["a", undefined],
      ["go", "no-go"],
    ]);
    expect(r.reasons[0]).toBe('no-go at "go": go on?');
  });

  it("injects nothing when a precondition probe does not hold, and exits 1", async () => {
    const g = await gameDay(
      'preconditions:\n  probes:\n    - { name: gauge low, memory.gauge: {}, tolerance: "< 10" }\nsteps:\n  - { id: a, experiment: a.yaml, expect: held }\n',
      { "a.yaml": FAULT("a") },
    );
    g.state.gauge = 50;
    const r = await g.runner.run();
    expect(g.state.applyOrder).toEqual([]);
    expect(r).toMatchObject({ status: "preconditions-failed", exitCode: 1 });
    expect(r.reasons[0]).toContain("preconditions do not hold");
    expect(r.reasons[0]).toContain("gauge low");
  });

  it("stops with exit 4 when an experiment cannot judge, and runs nothing after it", async () => {
    const broken =
      "method:\n  - action: memory.fault\n    target: { id: a }\n    args: { failApply: true }\n";
    const g = await gameDay(
      "steps:\n  - { id: a, experiment: a.yaml, expect: held }\n  - { id: b, experiment: b.yaml, expect: held }\n",
      { "a.yaml": broken, "b.yaml": FAULT("b") },
    );
    const r = await g.runner.run();
    expect(g.state.applyOrder).toEqual(["a"]);
    expect(g.state.live.size).toBe(0);
    expect(g.ledgerFiles()).toEqual([]);
    expect(r).toMatchObject({ status: "error", exitCode: 4 });
    expect(r.timeline.map((e) => [e.step, e.status])).toEqual([["a", "failed"]]);
  });

  it("records a surprise when an experiment deviates against a prediction of held", async () => {
    const g = await gameDay("steps:\n  - { id: a, experiment: a.yaml, expect: held }\n", {
      "a.yaml": `steady-state:\n  probes:\n    - { name: no live fault, memory.faults: {}, tolerance: "== 0" }\n  during: { every: 10ms }\nmethod:\n  - action: memory.fault\n    target: { id: a }\n    duration: 100ms\n`,
    });
    const r = await g.runner.run();
    expect(r).toMatchObject({ status: "completed", exitCode: 1 });
    expect(r.timeline[0]!.experiment).toMatchObject({ expect: "held", outcome: "deviated", matched: false });
    expect(r.findings).toEqual([
      {
        kind: "surprise",
        step: "a",
        text: expect.stringContaining("predicted held, the experiment deviated"),
      },
    ]);
  });

  it("aborts mid-fault: the fault is reverted, the ledger is empty, the rest never runs, exit 3", async () => {
    const g = await gameDay(
      "steps:\n  - { id: a, experiment: a.yaml, expect: held }\n  - { id: b, experiment: b.yaml, expect: held }\n",
      {
        "a.yaml":
          "method:\n  - action: memory.fault\n    target: { id: a }\n    args: { applyMs: 10 }\n    duration: 30s\n",
        "b.yaml": FAULT("b"),
      },
    );
    const done = g.runner.run();
    while (!g.state.live.has("a")) await new Promise((r) => setTimeout(r, 5));
    expect(g.ledgerFiles()).toHaveLength(1);
    g.session.abort("the facilitator called it off");
    const r = await done;
    expect(g.state.live.size).toBe(0);
    expect(g.state.applyOrder).toEqual(["a"]);
    expect(g.ledgerFiles()).toEqual([]);
    expect(r).toMatchObject({
      status: "aborted",
      exitCode: 3,
      aborted: { step: "a", reason: "the facilitator called it off" },
    });
    expect(r.timeline.map((e) => [e.step, e.status])).toEqual([["a", "aborted"]]);
  });

  it("aborts at a prompt answered abort, before the experiment after it, and records who said so", async () => {
    const g = await gameDay(
      "steps:\n  - { id: ready, manual: tell the team }\n  - { id: a, experiment: a.yaml, expect: held }\n",
      { "a.yaml": FAULT("a") },
      { ready: "abort" },
    );
    const r = await g.runner.run();
    expect(g.state.applyOrder).toEqual([]);
    expect(r).toMatchObject({
      status: "aborted",
      exitCode: 3,
      aborted: { step: "ready", reason: '"abort" answered at "ready" by tester' },
    });
    expect(r.timeline.map((e) => [e.step, e.status])).toEqual([["ready", "aborted"]]);
  });
});

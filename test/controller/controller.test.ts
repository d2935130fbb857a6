import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Registry } from "../../src/agents/registry.js";
import { Controller } from "../../src/experiments/controller.js";
import { Ledger } from "../../src/experiments/ledger.js";
import { parseExperiment } from "../../src/experiments/load.js";
import { memoryAgent } from "../support/memory-agent.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-controller-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const ledgerDir = join(dir, "ledger");
  const mem = memoryAgent({ ledgerDir });
  const registry = new Registry([mem.agent]);
  const experiment = parseExperiment("exp.yaml", `version: 1\ntitle: t\n${yaml}`, { registry, env });
  const ledger = new Ledger(ledgerDir);
  const controller = new Controller(experiment, {
    registry,
    log: pino({ level: "silent" }),
    ledger,
    toolVersion: "test",
    env,
  });
  return { controller, state: mem.state, ledger, ledgerDir };
}

const gaugeSteady = `steady-state:
  probes:
    - name: gauge low
      memory.gauge: {}
      tolerance: "< 10"
`;

describe("the controller", () => {
  test("records each fault in the ledger before applying it and empties the ledger once reverted", async () => {
    const { controller, state, ledgerDir } = setup(`${gaugeSteady}  during: { every: 10ms }
method:
  - action: memory.fault
    target: { id: a }
  - action: memory.fault
    target: { id: b }
    duration: 50ms
`);
    const j = await controller.run();
    expect(state.ledgerAtApply).toEqual([1, 2]);
    expect(state.live.size).toBe(0);
    expect(await readdir(ledgerDir)).toEqual([]);
    expect(j.status).toBe("held");
    expect(j.faults.map((f) => [f.description, Boolean(f.appliedAt), Boolean(f.revertedAt)])).toEqual([
      ["remove a", true, true],
      ["remove b", true, true],
    ]);
  });

  test("a fault whose apply failed half-way is still reverted, and the run is an error", async () => {
    const { controller, state } = setup(`method:
  - action: memory.fault
    target: { id: half }
    args: { failApply: true }
  - action: memory.fault
    target: { id: never }
`);
    const j = await controller.run();
    expect(state.applyOrder).toEqual(["half"]);
    expect(state.live.size).toBe(0);
    expect(j.status).toBe("error");
    expect(j.exitCode).toBe(4);
    expect(j.method.map((m) => m.status)).toEqual(["failed", "skipped"]);
    expect(j.reasons.join()).toMatch(/apply of half failed half-way/);
  });

  test("an action that outlives its timeout is timed out and its fault reverted", async () => {
    const { controller, state } = setup(`method:
  - action: memory.fault
    target: { id: slow }
    args: { applyMs: 5000 }
    timeout: 100ms
`);
    const j = await controller.run();
    expect(j.method[0]).toMatchObject({ status: "timed-out" });
    expect(j.method[0]!.durationMs).toBeLessThan(3000);
    expect(state.live.size).toBe(0);
    expect(j.status).toBe("error");
  });

  test("a revert that keeps failing leaves the fault in the ledger and says how to finish", async () => {
    const { controller, state, ledger } = setup(`method:
  - action: memory.fault
    target: { id: stuck }
`);
    state.revertFailures = 10;
    const j = await controller.run();
    expect(j.status).toBe("error");
    expect(j.rollbacks[0]).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/revert refused/),
    });
    expect(j.reasons.join()).toMatch(/chaos rollback/);
    expect((await ledger.entries()).entries.map((e) => e.revert.description)).toEqual(["remove stuck"]);
  });

  test("a revert refined while applying is rewritten to the ledger", async () => {
    const { controller, state, ledger } = setup(`method:
  - action: memory.fault
    target: { id: refined }
    args: { refine: true }
`);
    state.revertFailures = 10; // keep the entry in the ledger so it can be read after the run
    await controller.run();
    const [entry] = (await ledger.entries()).entries;
    expect(entry?.revert.data).toEqual({ id: "refined", refined: true });
  });

  test("a background action runs alongside the following steps", async () => {
    const { controller, state } = setup(`method:
  - action: memory.fault
    target: { id: bg }
    duration: 300ms
    background: true
  - pause: 100ms
  - probe:
      name: live faults while the background fault runs
      memory.faults: {}
      tolerance: 1
`);
    const j = await controller.run();
    expect(j.status).toBe("completed");
    expect(j.method.find((m) => m.kind === "probe")?.output).toMatchObject({ value: 1 });
    expect(state.live.size).toBe(0);
  });

  test("a steady state that does not hold before means nothing is injected", async () => {
    const { controller, state, ledgerDir } = setup(`${gaugeSteady}method:
  - action: memory.fault
    target: { id: a }
`);
    state.gauge = 50;
    const j = await controller.run();
    expect(j.status).toBe("not-steady");
    expect(j.exitCode).toBe(1);
    expect(state.applyOrder).toEqual([]);
    expect(j.method).toEqual([]);
    await expect(readdir(ledgerDir)).rejects.toThrow();
  });

  test("an empty probe result is not a pass", async () => {
    const { controller, state } = setup(`${gaugeSteady}method:
  - pause: 10ms
`);
    state.gauge = null;
    const j = await controller.run();
    expect(j.status).toBe("not-steady");
    expect(j.steadyState.before[0]).toMatchObject({ outcome: "empty", ok: false });
  });

  test("the hypothesis must recover within the deadline after rollbacks", async () => {
    const { controller, state } = setup(`steady-state:
  probes:
    - name: gauge low
      memory.gauge: {}
      tolerance: "< 10"
  during: none
  after: { within: 2s, every: 100ms }
method:
  - action: memory.fault
    target: { id: a }
`);
    state.gaugeAfter = [50, 50, 1];
    const j = await controller.run();
    expect(j.status).toBe("held");
    expect(j.steadyState.after.map((r) => r.ok)).toEqual([false, false, true]);
  });

  test("fail-fast stops the method at the first deviation and the verdict is deviated", async () => {
    const { controller, state } = setup(`steady-state:
  probes:
    - name: no faults live
      memory.faults: {}
      tolerance: 0
  during: { every: 50ms, fail-fast: true }
method:
  - action: memory.fault
    target: { id: a }
    duration: 5s
  - action: memory.fault
    target: { id: b }
`);
    const started = Date.now();
    const j = await controller.run();
    expect(Date.now() - started).toBeLessThan(4000);
    expect(j.status).toBe("deviated");
    expect(state.applyOrder).toEqual(["a"]);
    expect(state.live.size).toBe(0);
  });

  test("abort() stops the method, reverts every fault and yields aborted", async () => {
    const { controller, state } = setup(`method:
  - action: memory.fault
    target: { id: a }
  - pause: 10s
  - action: memory.fault
    target: { id: b }
`);
    setTimeout(() => controller.abort("signal", "received SIGINT"), 100);
    const j = await controller.run();
    expect(j.status).toBe("aborted");
    expect(j.exitCode).toBe(3);
    expect(j.method.map((m) => m.status)).toEqual(["succeeded", "aborted", "skipped"]);
    expect(state.live.size).toBe(0);
    expect(j.aborted?.reason).toBe("received SIGINT");
  });

  test("secret values never reach the journal", async () => {
    const { controller } = setup(
      `secrets: { token: { env: MY_TOKEN } }
method:
  - action: memory.fault
    target: { id: a }
    args: { secret: "token=\${secrets.token}" }
`,
      { MY_TOKEN: "s3cr3t-value" },
    );
    const j = await controller.run();
    expect(JSON.stringify(j)).not.toContain("s3cr3t-value");
    expect(j.method[0]!.output).toEqual({ id: "a", secret: "token=***" });
  });

  test("a missing secret is an invalid run before anything is injected", async () => {
    const { controller, state } = setup(`secrets: { token: { env: MY_TOKEN } }
method:
  - action: memory.fault
    target: { id: a }
`);
    await expect(controller.run()).rejects.toMatchObject({
      code: "invalid",
      message: expect.stringMatching(/MY_TOKEN is not set/),
    });
    expect(state.applyOrder).toEqual([]);
  });

  test("an apply that lands after its action timed out is still reverted by the rollback", async () => {
    const { controller, state, ledgerDir } = setup(`method:
  - action: memory.fault
    target: { id: late }
    args: { lateMs: 400 }
    timeout: 100ms
`);
    const j = await controller.run();
    expect(j.method[0]).toMatchObject({ status: "timed-out" });
    expect(state.applyOrder).toEqual(["late"]);
    expect(state.live.size).toBe(0);
    expect(j.status).toBe("error");
    expect(await readdir(ledgerDir)).toEqual([]);
  });

  test("a signal during the recovery wait ends the run at once, as aborted", async () => {
    const { controller, state } = setup(`steady-state:
  probes:
    - name: gauge low
      memory.gauge: {}
      tolerance: "< 10"
  after: { within: 20s, every: 200ms }
method:
  - action: memory.fault
    target: { id: a }
stop-when:
  - name: never
    probe: { memory.faults: {} }
    when: "> 100"
`);
    state.gaugeAfter = Array.from({ length: 500 }, () => 50);
    const started = Date.now();
    setTimeout(() => controller.abort("signal", "received SIGINT"), 800);
    const j = await controller.run();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(j.status).toBe("aborted");
    expect(state.live.size).toBe(0);
  });

  test("a signal that cuts a recovery check short after its deadline is an abort (exit 3), not a blind probe", async () => {
    const { controller, state } = setup(`steady-state:
  probes:
    - name: recovers
      memory.recovery-hangs: {}
      tolerance: "< 10"
  during: none
  after: { within: 0s }
method:
  - action: memory.fault
    target: { id: a }
`);
    // The check is in flight, its recovery deadline long past, when the signal comes.
    state.onHang = () => setImmediate(() => controller.abort("signal", "received SIGTERM"));
    const j = await controller.run();
    expect(j.status).toBe("aborted");
    expect(j.exitCode).toBe(3);
    expect(j.reasons).toEqual(["received SIGTERM"]);
    expect(j.steadyState.after).toEqual([]);
    expect(state.live.size).toBe(0);
  });

  test("before: { within } waits until the system is steady, and the journal says how long it took", async () => {
    const { controller, state } = setup(`steady-state:
  probes:
    - name: gauge low
      memory.gauge: {}
      tolerance: "< 10"
  before: { within: 10s, every: 50ms }
  during: none
method:
  - action: memory.fault
    target: { id: a }
`);
    state.gauge = 50; // the tail of a previous run, still in the window
    const settled = setTimeout(() => {
      state.gauge = 0;
    }, 400);
    const j = await controller.run();
    clearTimeout(settled);
    expect(j.status).toBe("held");
    expect(j.steadyBefore!.waitedMs).toBeGreaterThanOrEqual(350);
    expect(j.steadyBefore!.waitedMs).toBeLessThan(10_000);
    expect(j.steadyBefore!.attempts).toBeGreaterThanOrEqual(2);
    expect(j.steadyBefore!.withinMs).toBe(10_000);
    // Only the round that held is evidence: the settling rounds do not count against the score.
    expect(j.steadyState.before.map((r) => [r.ok, r.value])).toEqual([[true, 0]]);
    expect(state.applyOrder).toEqual(["a"]);
  });

  test("before: { within } that runs out is not steady, injects nothing, and says how long it waited", async () => {
    const { controller, state } = setup(`steady-state:
  probes:
    - name: gauge low
      memory.gauge: {}
      tolerance: "< 10"
  before: { within: 300ms, every: 100ms }
  during: none
method:
  - action: memory.fault
    target: { id: a }
`);
    state.gauge = 50;
    const started = Date.now();
    const j = await controller.run();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(j.status).toBe("not-steady");
    expect(j.exitCode).toBe(1);
    expect(j.reasons).toContain("not steady before: gauge low: 50 is not < 10 (still, after waiting 300ms)");
    expect(j.steadyBefore!.attempts).toBeGreaterThanOrEqual(2);
    expect(j.steadyBefore!.waitedMs).toBeGreaterThanOrEqual(200);
    expect(j.steadyState.before).toHaveLength(1);
    expect(state.applyOrder).toEqual([]);
  });

  test("a fault that vanished under the run (removed by someone else) is journaled, and the run cannot hold", async () => {
    const { controller, state } = setup(`${gaugeSteady}  during: { every: 20ms }
method:
  - action: memory.fault
    target: { id: gone }
    duration: 300ms
`);
    // Another run deletes it mid-window: as soon as it is live, however long the run took to get there.
    const remover = setInterval(() => state.live.delete("gone") && clearInterval(remover), 10);
    const j = await controller.run().finally(() => clearInterval(remover));
    expect(j.status).toBe("error");
    expect(j.exitCode).toBe(4);
    expect(j.faults[0]).toMatchObject({ description: "remove gone", vanished: true });
    expect(j.reasons.join("\n")).toContain(
      '"remove gone" vanished before its revert (gone was already gone): it was not live for its whole window',
    );
    expect(j.rollbacks[0]).toMatchObject({ status: "succeeded", note: "gone was already gone" });
  });

  test("the experiment's own rollbacks: steps run after every fault is reverted, and are journaled as user rollbacks", async () => {
    const { controller, state } = setup(`method:
  - action: memory.fault
    target: { id: a }
rollbacks:
  - action: memory.poke
    name: tidy up
`);
    const j = await controller.run();
    expect(state.applyOrder).toEqual(["a", "poke"]);
    expect(j.rollbacks.map((r) => [r.description, r.source, r.status])).toEqual([
      ["remove a", "automatic", "succeeded"],
      ["tidy up", "user", "succeeded"],
    ]);
    expect(j.status).toBe("completed");
  });

  test("a revert that succeeds on its second attempt empties the ledger and the run still holds", async () => {
    const { controller, state, ledgerDir } = setup(`${gaugeSteady}  during: { every: 10ms }
method:
  - action: memory.fault
    target: { id: a }
    duration: 50ms
`);
    state.revertFailures = 1;
    const j = await controller.run();
    expect(state.revertFailures).toBe(0);
    expect(state.live.size).toBe(0);
    expect(j.rollbacks).toEqual([expect.objectContaining({ status: "succeeded", source: "automatic" })]);
    expect(await readdir(ledgerDir)).toEqual([]);
    expect(j.status).toBe("held");
  });

  test("a revert that succeeds on its third and last attempt empties the ledger and the run still holds", async () => {
    const { controller, state, ledgerDir } = setup(`${gaugeSteady}  during: { every: 10ms }
method:
  - action: memory.fault
    target: { id: a }
    duration: 50ms
`);
    state.revertFailures = 2;
    const j = await controller.run();
    expect(state.revertFailures).toBe(0);
    expect(state.live.size).toBe(0);
    expect(j.rollbacks).toEqual([expect.objectContaining({ status: "succeeded", source: "automatic" })]);
    expect(j.faults[0]!.revertedAt).toBeDefined();
    expect(await readdir(ledgerDir)).toEqual([]);
    expect(j.status).toBe("held");
  });

  test("a hypothesis probe blind after the rollbacks cannot judge the recovery (exit 4), the fault reverted", async () => {
    const { controller, state, ledgerDir } = setup(`steady-state:
  probes:
    - name: error rate
      memory.blind-after-revert: {}
      tolerance: "< 1"
  during: none
  after: { within: 300ms, every: 100ms }
method:
  - action: memory.fault
    target: { id: a }
    duration: 50ms
`);
    const j = await controller.run();
    expect(j).toMatchObject({ status: "error", exitCode: 4 });
    expect(j.reasons.join("\n")).toContain('could not judge: "error rate" could not be taken after');
    expect(j.reasons.join("\n")).not.toContain("deviated");
    expect(j.steadyState.before.map((r) => r.ok)).toEqual([true]);
    expect(j.faults[0]!.revertedAt).toBeDefined();
    expect(state.live.size).toBe(0);
    expect(await readdir(ledgerDir)).toEqual([]);
  });

  test("a fault whose ledger entry cannot be written is never applied, and the run is an error", async () => {
    const { controller, state, ledgerDir } = setup(`method:
  - action: memory.fault
    target: { id: a }
`);
    await writeFile(ledgerDir, "not a folder"); // the ledger cannot be written
    const j = await controller.run();
    expect(state.applyOrder).toEqual([]);
    expect(state.live.size).toBe(0);
    expect(j.status).toBe("error");
    expect(j.exitCode).toBe(4);
    expect(j.faults).toEqual([]);
  });

  test("a hypothesis that does not recover after the rollbacks is a deviation, named in the reasons", async () => {
    const { controller, state } = setup(`${gaugeSteady}  during: { every: 10ms }
  after: { within: 300ms, every: 100ms }
method:
  - action: memory.fault
    target: { id: a }
    duration: 50ms
`);
    state.gaugeAfter = Array.from({ length: 50 }, () => 50);
    const j = await controller.run();
    expect(j.status).toBe("deviated");
    expect(j.exitCode).toBe(1);
    expect(j.reasons).toContain("did not recover after rollbacks: gauge low: 50 is not < 10");
    expect(j.steadyState.after.length).toBeGreaterThanOrEqual(2);
    expect(j.steadyState.after.every((r) => !r.ok)).toBe(true);
  });

  test("a stop condition told to continue when blind is named in the reasons", async () => {
    const { controller } = setup(`stop-when:
  - name: blind
    probe: { memory.broken: {} }
    when: "> 1"
    every: 50ms
    on-error: continue
method:
  - pause: 200ms
`);
    const j = await controller.run();
    expect(j.status).toBe("completed");
    expect(j.reasons.join("\n")).toMatch(
      /stop condition "blind" could not be checked \d+ of \d+ times \(backend unreachable\)/,
    );
  });
});

describe("the evidence rules", () => {
  const fault = (ms: string) => `method:
  - action: memory.fault
    target: { id: a }
    duration: ${ms}
`;
  /** One stop condition checked every 50 ms on a memory probe, around a fault of `ms`. */
  const stopWhen = (name: string, probe: string, ms: string, extra = "") => `stop-when:
  - name: ${name}
    probe: { memory.${probe}: {} }
    when: "> 1"
    every: 50ms
${extra}${fault(ms)}`;

  test("without a during block a live fault was never observed: not held, exit 1, and the reason says so", async () => {
    const { controller, state } = setup(`${gaugeSteady}${fault("100ms")}`);
    const j = await controller.run();
    expect(j).toMatchObject({ status: "unobserved", exitCode: 1 });
    expect(j.reasons.join("\n")).toMatch(
      /not observed: no hypothesis check was taken while "memory.fault" was live .*no during: block/,
    );
    expect(j.reasons.join("\n")).not.toContain("held");
    expect(state.live.size).toBe(0);
  });

  test("a fault shorter than one interval was not observed either", async () => {
    const { controller } = setup(`${gaugeSteady}  during: { every: 2s }\n${fault("100ms")}`);
    const j = await controller.run();
    expect(j.status).toBe("unobserved");
    // The first check runs as the method starts, before the fault is applied: it is no evidence.
    expect(j.steadyState.during.length).toBeGreaterThanOrEqual(1);
    expect(j.reasons.join("\n")).toContain("shorter than the interval (during: every 2s)");
  });

  test("a check taken while the fault was live is evidence: held", async () => {
    const { controller } = setup(`${gaugeSteady}  during: { every: 50ms }\n${fault("300ms")}`);
    const j = await controller.run();
    expect(j.status).toBe("held");
    expect(j.reasons).toEqual(["the steady-state hypothesis held before, during and after the method"]);
  });

  test("an action with nothing to revert needs a check after it during the method", async () => {
    const last = setup(`${gaugeSteady}  during: { every: 50ms }
method:
  - pause: 100ms
  - action: memory.poke
`);
    const j = await last.controller.run();
    expect(j.status).toBe("unobserved");
    expect(j.reasons.join("\n")).toContain('while "memory.poke" was live (0ms); too little of the method');
    const followed = setup(`${gaugeSteady}  during: { every: 50ms }
method:
  - action: memory.poke
  - pause: 300ms
`);
    expect((await followed.controller.run()).status).toBe("held");
  });

  test("during: none accepts an unobserved fault, and the verdict says it was not checked", async () => {
    const { controller } = setup(`${gaugeSteady}  during: none\n${fault("100ms")}`);
    const j = await controller.run();
    expect(j).toMatchObject({ status: "held", exitCode: 0 });
    expect(j.reasons[0]).toContain("during: none, not checked while faults were live");
    expect(j.steadyState.during).toEqual([]);
  });

  test("an experiment without a hypothesis is a plain injection: completed, nothing judged, exit 0", async () => {
    const { controller, state } = setup(fault("50ms"));
    const j = await controller.run();
    expect(j).toMatchObject({ status: "completed", exitCode: 0 });
    expect(j.reasons).toEqual([
      "completed, nothing judged: the experiment has no steady-state hypothesis (a plain injection)",
    ]);
    expect(state.applyOrder).toEqual(["a"]);
  });

  test("a hypothesis probe that goes blind mid-run aborts the method, reverts and cannot judge (exit 4)", async () => {
    const { controller, state } = setup(`steady-state:
  probes:
    - name: error rate
      memory.blind-while-faulted: {}
      tolerance: "< 1"
  during: { every: 50ms }
${fault("20s")}`);
    const started = Date.now();
    const j = await controller.run();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(j).toMatchObject({ status: "error", exitCode: 4 });
    expect(j.reasons.join("\n")).toContain(
      'could not judge: "error rate" could not be taken during the method: backend answered 500',
    );
    expect(j.reasons.join("\n")).not.toContain("deviated");
    expect(j.faults[0]!.revertedAt).toBeDefined();
    expect(state.live.size).toBe(0);
  });

  test("a hypothesis probe that cannot be taken before means nothing is injected and exit 4, not 'not steady'", async () => {
    const { controller, state } = setup(`steady-state:
  probes:
    - name: error rate
      memory.broken: {}
      tolerance: "< 1"
  during: { every: 50ms }
${fault("1s")}`);
    const j = await controller.run();
    expect(j).toMatchObject({ status: "error", exitCode: 4 });
    expect(j.reasons[0]).toContain('could not judge: "error rate" could not be taken before the method');
    expect(state.applyOrder).toEqual([]);
  });

  test("a system under test that does not answer is a deviation, not a blind probe", async () => {
    const { controller } = setup(`steady-state:
  probes:
    - name: web answers
      memory.silent: {}
      tolerance: 200
${fault("1s")}`);
    const j = await controller.run();
    expect(j).toMatchObject({ status: "not-steady", exitCode: 1 });
    expect(j.steadyState.before[0]).toMatchObject({ outcome: "no-answer", ok: false });
  });

  test("a stop condition whose probe cannot be taken stops the run: could not see, reverted, exit 4", async () => {
    const { controller, state } = setup(stopWhen("error budget", "broken", "20s"));
    const started = Date.now();
    const j = await controller.run();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(j).toMatchObject({ status: "error", exitCode: 4 });
    expect(j.reasons[0]).toBe(
      'stopped: could not see: stop condition "error budget" could not be checked: backend unreachable',
    );
    expect(j.stopConditions[0]).toMatchObject({ ok: false, outcome: "error" });
    expect(state.live.size).toBe(0);
  });

  test("a stop condition whose system does not answer stops the run like a met condition (exit 3)", async () => {
    const { controller, state } = setup(stopWhen("latency budget", "silent", "20s"));
    const j = await controller.run();
    expect(j).toMatchObject({ status: "aborted", exitCode: 3 });
    expect(j.aborted?.reason).toContain(
      'stopped: could not see: stop condition "latency budget" got no answer',
    );
    expect(j.method[0]).toMatchObject({ status: "aborted" });
    expect(state.live.size).toBe(0);
  });

  test("on-error: continue keeps a blind stop condition from stopping the run", async () => {
    const { controller, state } = setup(
      stopWhen("latency budget", "silent", "200ms", "    on-error: continue\n"),
    );
    const j = await controller.run();
    expect(j.status).toBe("completed");
    expect(j.method[0]).toMatchObject({ status: "succeeded" });
    expect(j.reasons.join("\n")).toMatch(
      /stop condition "latency budget" could not be checked \d+ of \d+ times/,
    );
    expect(state.live.size).toBe(0);
  });
});

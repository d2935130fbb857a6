import { mkdtemp, readdir, rm } from "node:fs/promises";
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
    const { controller, state, ledgerDir } = setup(`${gaugeSteady}method:
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
    expect(j.status).toBe("held");
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

  test("a stop condition that cannot be checked is named in the reasons", async () => {
    const { controller } = setup(`stop-when:
  - name: blind
    probe: { memory.broken: {} }
    when: "> 1"
    every: 50ms
method:
  - pause: 200ms
`);
    const j = await controller.run();
    expect(j.status).toBe("held");
    expect(j.reasons.join("\n")).toMatch(
      /stop condition "blind" could not be checked \d+ of \d+ times \(backend unreachable\)/,
    );
  });
});

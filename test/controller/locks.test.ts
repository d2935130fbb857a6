import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
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
  dir = await mkdtemp(join(tmpdir(), "chaos-controller-locks-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A run with its own agent state, sharing the ledger folder (and so the leases) with every other run. */
function setup(title: string, method: string) {
  const mem = memoryAgent();
  const registry = new Registry([mem.agent]);
  const experiment = parseExperiment("exp.yaml", `version: 1\ntitle: ${title}\nmethod:\n${method}`, {
    registry,
    env: {},
  });
  const controller = new Controller(experiment, {
    registry,
    log: pino({ level: "silent" }),
    ledger: new Ledger(join(dir, "ledger")),
    toolVersion: "test",
    env: {},
  });
  return { controller, state: mem.state };
}

const leases = () =>
  existsSync(join(dir, "ledger", "locks")) ? readdirSync(join(dir, "ledger", "locks")) : [];
const entries = () => readdirSync(join(dir, "ledger")).filter((f) => f.endsWith(".json"));

describe("leases in the controller", () => {
  test("refuse a step on a target another run holds, touching nothing, and leave the holder's fault live", async () => {
    const a = setup(
      "A",
      "  - action: memory.fault\n    target: { id: a }\n    args: { lock: shared }\n    duration: 400ms\n",
    );
    const running = a.controller.run();
    await expect.poll(() => a.state.live.has("a"), { timeout: 5000, interval: 5 }).toBe(true);
    expect(leases()).toHaveLength(1);

    const b = setup("B", "  - action: memory.fault\n    target: { id: b }\n    args: { lock: shared }\n");
    const jb = await b.controller.run();
    expect(jb.status).toBe("error");
    expect(jb.exitCode).toBe(4);
    expect(jb.reasons.join()).toContain(`shared is locked by run ${a.controller.runId}`);
    expect(jb.reasons.join()).toContain('experiment "A"');
    expect(b.state.applyOrder).toEqual([]);
    expect(jb.faults).toEqual([]);
    expect(a.state.live.has("a")).toBe(true);
    expect(entries()).toHaveLength(1);

    const ja = await running;
    expect(ja.status).toBe("completed"); // no hypothesis: a plain injection
    expect(leases()).toEqual([]);
    expect(entries()).toEqual([]);
  });

  test("let one run take the same target twice, and release it with the last fault", async () => {
    const a = setup(
      "A",
      "  - action: memory.fault\n    target: { id: one }\n    args: { lock: t }\n  - action: memory.fault\n    target: { id: two }\n    args: { lock: t }\n",
    );
    const j = await a.controller.run();
    expect(j.status).toBe("completed"); // no hypothesis: a plain injection
    expect(a.state.applyOrder).toEqual(["one", "two"]);
    expect(leases()).toEqual([]);
  });

  test("keep the lease while a fault could not be reverted, so no other run takes the target", async () => {
    const a = setup("A", "  - action: memory.fault\n    target: { id: stuck }\n    args: { lock: t }\n");
    a.state.revertFailures = 10;
    const j = await a.controller.run();
    expect(j.status).toBe("error");
    expect(entries()).toHaveLength(1);
    expect(leases()).toHaveLength(1);
  });
});

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cgroupsOf } from "../../src/agents/stress/cgroup.js";
import { stressAgent } from "../../src/agents/stress/index.js";
import { testContext } from "../support/agent-context.js";
import { describeWithCgroups, makeCgroup2, type TestCgroup2 } from "../support/cgroup.js";
import { ensureCliBuilt } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";

/**
 * A cgroup2 hierarchy the test mounts itself. On a hybrid machine (v1 controllers, v2 without any) it holds no
 * controller, so what can be checked there is the join and the CPU counter every v2 cgroup keeps (cpu.stat);
 * memory.* and cpu.max readings are covered by the unit tests on v2 files.
 */
const ctx = testContext();
let group: TestCgroup2;
let target: Target;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const usageUsec = async () => Number(/usage_usec (\d+)/.exec(await group.read("cpu.stat"))?.[1]);
const v2Line = (pid: number) =>
  readFileSync(`/proc/${pid}/cgroup`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("0::"));

function processCpu(p: number): number {
  const stat = readFileSync(`/proc/${p}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describeWithCgroups("the stress agent on a cgroup v2 hierarchy mounted by the test", () => {
  beforeAll(async () => {
    await ensureCliBuilt();
    group = await makeCgroup2();
    target = await startTarget();
    await group.add(target.pid);
  }, 180_000);
  afterAll(async () => {
    await target?.stop();
    await group?.remove();
    await ctx.dispose();
  });

  it("joins the target's v2 cgroup, whose cpu.stat counts the stressor's CPU time", async () => {
    expect(v2Line(target.pid)).toBe(`0::${group.path}`);
    expect((await cgroupsOf(target.pid)).v2Path).toBe(group.path);
    const fault = await stressAgent.actions.cpu!.prepare(
      { target: { process: { pid: target.pid } }, args: { workers: 1 }, durationMs: 20_000 },
      ctx,
    );
    const out = (await fault.apply()) as { stressor: number };
    try {
      expect(v2Line(out.stressor)).toBe(`0::${group.path}`);
      const before = await usageUsec();
      const burntBefore = processCpu(out.stressor);
      await sleep(1500);
      const counted = ((await usageUsec()) - before) / 1e6;
      const burnt = processCpu(out.stressor) - burntBefore;
      expect(burnt).toBeGreaterThan(0.05);
      expect(counted).toBeGreaterThanOrEqual(burnt - 0.03);
    } finally {
      await stressAgent.revert(fault.revert!, ctx);
    }
    await expect(group.read("cgroup.procs")).resolves.toBe(String(target.pid));
  }, 60_000);
});

import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { PreparedFault } from "../../src/agents/agent.js";
import { findHelpers } from "../../src/agents/inside/index.js";
import { stressAgent } from "../../src/agents/stress/index.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { testContext } from "../support/agent-context.js";
import { describeWithCgroups, makeCgroup, type TestCgroup } from "../support/cgroup.js";
import { ensureCliBuilt } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";

beforeAll(ensureCliBuilt, 180_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ctx = testContext();
afterAll(() => ctx.dispose());

/** CPU seconds a process used so far (utime + stime). */
function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function cgroupLines(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  cleanups = [];
});

async function targetIn(group: TestCgroup): Promise<Target> {
  const target = await startTarget();
  cleanups.push(() => target.stop());
  await group.add(target.pid);
  return target;
}

async function cgroup(opts: Parameters<typeof makeCgroup>[0]): Promise<TestCgroup> {
  const group = await makeCgroup(opts);
  cleanups.push(() => group.remove());
  return group;
}

async function start(action: string, target: Record<string, unknown>, args: Record<string, unknown>) {
  const fault = await stressAgent.actions[action]!.prepare({ target, args, durationMs: 20_000 }, ctx);
  let reverted = false;
  const revert = async () => {
    if (reverted) return undefined;
    reverted = true;
    return stressAgent.revert(fault.revert!, ctx);
  };
  cleanups.push(async () => void (await revert()));
  const output = (await fault.apply()) as Record<string, unknown>;
  return { fault, output, pid: output.stressor as number, revert };
}

const tagOf = (fault: PreparedFault) => (fault.revert!.data as { tag: string }).tag;

describeWithCgroups("the stress agent on real cgroups (v1)", () => {
  it("runs a CPU stressor inside the target's cgroups, where its CPU time is counted, within the target's quota", async () => {
    const group = await cgroup({ cpuCores: 0.5 });
    const target = await targetIn(group);
    const { pid, output, revert, fault } = await start(
      "cpu",
      { process: { pid: target.pid } },
      { workers: 2 },
    );
    expect(output).toMatchObject({ workers: 2, load: 100, limitCores: 0.5 });
    expect(cgroupLines(pid).filter((l) => /:(cpu|cpuacct|memory):/.test(l))).toEqual(
      cgroupLines(target.pid).filter((l) => /:(cpu|cpuacct|memory):/.test(l)),
    );
    const cgroupBefore = Number(await group.read("cpuacct", "cpuacct.usage")) / 1e9;
    const stressorBefore = processCpu(pid);
    const t0 = Date.now();
    await sleep(2000);
    const cgroupAfter = Number(await group.read("cpuacct", "cpuacct.usage")) / 1e9;
    const stressorAfter = processCpu(pid);
    const elapsed = (Date.now() - t0) / 1000;
    const stressor = stressorAfter - stressorBefore;
    const counted = cgroupAfter - cgroupBefore;
    expect(stressor).toBeGreaterThan(0.05);
    // Everything the stressor burnt is charged to the target's cgroup (ticks are 10 ms; allow for them).
    expect(counted).toBeGreaterThanOrEqual(stressor - 0.03);
    // Two workers at 100% still get no more than the target's half core.
    expect(counted).toBeLessThanOrEqual(0.5 * elapsed * 1.15 + 0.05);
    const outcome = await revert();
    expect(outcome?.note).toMatch(/pid \d+ \(node\)'s cgroup used \d+\.\d\d cores on average/);
    expect(await findHelpers(tagOf(fault))).toEqual([]);
    expect(await group.pids()).toEqual([target.pid]);
  }, 60_000);

  it("holds memory in the target's cgroup under its limit, and frees it on revert", async () => {
    const limit = 256 * 2 ** 20;
    const group = await cgroup({ memoryLimit: limit });
    const target = await targetIn(group);
    const before = Number(await group.read("memory", "memory.usage_in_bytes"));
    const { output, revert, pid } = await start("memory", { process: { pid: target.pid } }, { size: "50%" });
    expect(output).toMatchObject({ bytes: limit / 2, size: "128Mi", held: limit / 2 });
    const held = Number(await group.read("memory", "memory.usage_in_bytes"));
    expect(held - before).toBeGreaterThanOrEqual(limit / 2);
    expect(Number(await group.read("memory", "memory.max_usage_in_bytes"))).toBeLessThanOrEqual(limit);
    expect(cgroupLines(pid).find((l) => l.includes(":memory:"))).toBe(
      cgroupLines(target.pid).find((l) => l.includes(":memory:")),
    );
    const outcome = await revert();
    expect(outcome?.note).toMatch(/held \d+(\.\d)?Mi of its 256Mi limit/);
    expect(Number(await group.read("memory", "memory.usage_in_bytes"))).toBeLessThan(before + 32 * 2 ** 20);
    expect(target.state()).toBeDefined();
  }, 60_000);

  it("measures the pressure through the usage probes of the target's cgroup", async () => {
    const group = await cgroup({ cpuCores: 0.5, memoryLimit: 256 * 2 ** 20 });
    const target = await targetIn(group);
    const named = { target: { process: { pid: target.pid } } };
    await start("memory", named.target, { size: "64Mi" });
    await start("cpu", named.target, { workers: 1 });
    const memory = await stressAgent.probes["memory-usage"]!.run(named, ctx);
    expect(memory.value).toBeGreaterThanOrEqual(64 * 2 ** 20);
    expect(memory.fields).toMatchObject({ limit: 256 * 2 ** 20 });
    expect(memory.summary).toMatch(/^\d+(\.\d)?Mi \(\d+% of 256Mi\)$/);
    const cpu = await stressAgent.probes["cpu-usage"]!.run({ ...named, window: "1s" }, ctx);
    expect(cpu.value).toBeGreaterThan(0.02);
    expect(cpu.value).toBeLessThanOrEqual(0.5 * 1.2);
    expect(cpu.fields).toMatchObject({ limit: 0.5, limited: true });
  }, 60_000);

  it("refuses to ask for more than the target's limit minus a margin, before anything starts", async () => {
    const group = await cgroup({ memoryLimit: 128 * 2 ** 20 });
    const target = await targetIn(group);
    const prepare = stressAgent.actions.memory!.prepare(
      { target: { process: { pid: target.pid } }, args: { size: "100%" } },
      ctx,
    );
    await expect(prepare).rejects.toThrow(ChaosError);
    await expect(prepare).rejects.toThrow(
      /is more than the \d+(\.\d)?Mi pid \d+ \(node\) can take \(pid \d+ \(node\): limit 128Mi, in use .*, margin 32Mi\)/,
    );
    expect(await group.pids()).toEqual([target.pid]);
  });

  it("reports a stressor the kernel OOM-killed (force past the limit) in the output and the revert, and the target survives", async () => {
    const group = await cgroup({ memoryLimit: 96 * 2 ** 20 });
    const target = await targetIn(group);
    const { output, revert } = await start(
      "memory",
      { process: { pid: target.pid } },
      { size: "100%", force: true },
    );
    expect(output.ended).toMatch(/killed by SIGKILL \(the kernel's OOM killer\?\)/);
    const outcome = await revert();
    expect(outcome?.note).toMatch(/the stressor ended early \(killed by SIGKILL/);
    expect(outcome?.note).toMatch(/the kernel OOM-killed 1 process\(es\)/);
    expect((await target.get("/health")).status).toBe(200);
  }, 60_000);

  it("refuses a target in the toolkit's own cgroup", async () => {
    const target = await startTarget();
    cleanups.push(() => target.stop());
    await expect(
      stressAgent.actions.memory!.prepare(
        { target: { process: { pid: target.pid } }, args: { size: "1Mi" } },
        ctx,
      ),
    ).rejects.toThrow(/shares the toolkit's own memory cgroup/);
    await expect(
      stressAgent.actions.cpu!.prepare({ target: { process: { pid: process.pid } }, args: {} }, ctx),
    ).rejects.toThrow(/chaos process itself/);
  });
});

describeWithCgroups("the disk fill", () => {
  let mount: string;
  beforeAll(async () => {
    mount = await mkdtemp(join(tmpdir(), "chaoskit-fill-"));
    const { execFileSync } = await import("node:child_process");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", mount]);
  });
  afterAll(async () => {
    const { execFileSync } = await import("node:child_process");
    execFileSync("umount", [mount]);
    await rm(mount, { recursive: true, force: true });
  });

  it("fills a filesystem until only `free` is left, and the revert removes the file", async () => {
    const { output, revert, fault } = await start("disk", {}, { path: mount, free: "16Mi" });
    const file = output.file as string;
    expect(file.startsWith(join(mount, ".chaoskit-fill-"))).toBe(true);
    expect((fault.revert!.data as { file: string }).file).toBe(file);
    const fs = await statfs(mount);
    expect(fs.bavail * fs.bsize).toBeGreaterThan(15 * 2 ** 20);
    expect(fs.bavail * fs.bsize).toBeLessThan(17 * 2 ** 20);
    await revert();
    expect(await readdir(mount)).toEqual([]);
  }, 60_000);

  it("refuses to fill the filesystem holding the toolkit's state below its margin, unless forced", async () => {
    const state = await mkdtemp(join(tmpdir(), "chaoskit-state-"));
    cleanups.push(() => rm(state, { recursive: true, force: true }));
    const local = testContext({ stateDir: join(state, "ledger") });
    await expect(
      stressAgent.actions.disk!.prepare({ target: {}, args: { path: state, free: "1Mi" } }, local),
    ).rejects.toThrow(
      /would leave 1Mi free on the filesystem of \/ and the toolkit's state, below its .* margin/,
    );
    // A small fill of the same filesystem is fine.
    const fault = await stressAgent.actions.disk!.prepare(
      { target: {}, args: { path: state, size: "1Mi" } },
      local,
    );
    expect(fault.revert?.description).toMatch(/^stop filling .* and remove .*\.chaoskit-fill-/);
  });
});

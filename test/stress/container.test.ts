import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cgroupsOf } from "../../src/agents/stress/cgroup.js";
import { stressAgent } from "../../src/agents/stress/index.js";
import { testContext } from "../support/agent-context.js";
import { describeWithDocker, IDLE, startDockerSuite, type TestContainers } from "../support/docker.js";

const ctx = testContext();
let containers: TestContainers;
let name: string;
let pid: number;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function processCpu(p: number): number {
  const stat = readFileSync(`/proc/${p}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const controllerLines = (p: number) =>
  readFileSync(`/proc/${p}/cgroup`, "utf8")
    .split("\n")
    .filter((l) => /:(cpu|cpuacct|memory|cpu,cpuacct):/.test(l));

describeWithDocker("the stress agent on a container", () => {
  beforeAll(async () => {
    containers = await startDockerSuite();
    name = containers.name("stressed");
    const container = await containers.docker.createContainer({
      name,
      Image: containers.image,
      Cmd: IDLE,
      Labels: { "chaoskit.test": containers.id },
      HostConfig: { NetworkMode: "host", NanoCpus: 500_000_000, Memory: 256 * 2 ** 20 },
    });
    await container.start();
    await containers.waitForLog(container, "ready");
    pid = (await container.inspect()).State.Pid;
  }, 180_000);
  afterAll(async () => {
    await ctx.dispose();
    await containers?.removeAll();
  });

  it("burns CPU and holds memory inside the container's cgroups, counted there and under its limits", async () => {
    const cgroups = await cgroupsOf(pid);
    const cpu = await stressAgent.actions.cpu!.prepare(
      { target: { container: name }, args: {}, durationMs: 20_000 },
      ctx,
    );
    const cpuOut = (await cpu.apply()) as { stressor: number; workers: number; limitCores: number };
    try {
      expect(cpuOut).toMatchObject({ workers: 1, limitCores: 0.5, target: `container ${name} (pid ${pid})` });
      expect(controllerLines(cpuOut.stressor)).toEqual(controllerLines(pid));
      const acct = join(cgroups.v1.cpuacct!, "cpuacct.usage");
      const before = Number(readFileSync(acct, "utf8")) / 1e9;
      const stressorBefore = processCpu(cpuOut.stressor);
      await sleep(1500);
      const counted = Number(readFileSync(acct, "utf8")) / 1e9 - before;
      const burnt = processCpu(cpuOut.stressor) - stressorBefore;
      expect(burnt).toBeGreaterThan(0.05);
      expect(counted).toBeGreaterThanOrEqual(burnt - 0.03);
    } finally {
      await stressAgent.revert(cpu.revert!, ctx);
    }

    const memory = await stressAgent.actions.memory!.prepare(
      { target: { container: name }, args: { size: "50%" }, durationMs: 20_000 },
      ctx,
    );
    const memOut = (await memory.apply()) as { stressor: number; held: number };
    try {
      expect(memOut.held).toBe(128 * 2 ** 20);
      const usage = Number(readFileSync(join(cgroups.v1.memory!, "memory.usage_in_bytes"), "utf8"));
      expect(usage).toBeGreaterThanOrEqual(128 * 2 ** 20);
      expect(
        Number(readFileSync(join(cgroups.v1.memory!, "memory.max_usage_in_bytes"), "utf8")),
      ).toBeLessThanOrEqual(256 * 2 ** 20);
    } finally {
      const outcome = await stressAgent.revert(memory.revert!, ctx);
      expect(outcome?.note).toMatch(/of its 256Mi limit/);
    }
    expect(await containers.state("stressed")).toBe("running");
  }, 90_000);
});

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type Docker from "dockerode";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { AgentContext } from "../../src/agents/agent.js";
import { readNetns } from "../../src/agents/inside/index.js";
import { networkAgent } from "../../src/agents/network/index.js";
import { testContext } from "../support/agent-context.js";
import { describeWithDocker, startDockerSuite, type TestContainers } from "../support/docker.js";
import { requireNamespaces, roundTrips } from "../support/netns.js";

const exec = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describeWithDocker("network faults inside a container's namespace (docker agent lookup)", () => {
  let suite: TestContainers;
  let pid: number;
  let ctx: AgentContext & { dispose(): Promise<void> };
  /** Runs a command in the container's network namespace, as a process of the container would. */
  const inside = {
    exec: async (argv: string[]) =>
      (await exec("nsenter", [`--net=/proc/${pid}/ns/net`, "--", ...argv])).stdout,
  };

  beforeAll(async () => {
    requireNamespaces();
    suite = await startDockerSuite();
    // A network of its own with only a loopback: nothing it sends can leave it.
    const container: Docker.Container = await suite.docker.createContainer({
      name: suite.name("db"),
      Image: suite.image,
      Cmd: [
        "/usr/bin/node",
        "-e",
        'process.on("SIGTERM", () => process.exit(0)); require("net").createServer((c) => c.on("data", (d) => c.write("db:" + d))).listen(7070, "127.0.0.1", () => console.log("ready"));',
      ],
      Labels: { "chaoskit.test": suite.id },
      HostConfig: { NetworkMode: "none" },
    });
    await container.start();
    await suite.waitForLog(container, "ready");
    pid = (await container.inspect()).State.Pid;
  }, 240_000);
  afterEach(async () => {
    await ctx?.dispose();
  });
  afterAll(async () => {
    await suite?.removeAll();
  });

  it("latency by container name: its init process's namespace is faulted, and the revert clears it", async () => {
    expect(await readNetns(pid)).not.toBe(await readNetns("self"));
    ctx = testContext();
    await networkAgent.prepareRun!(ctx);
    const prepared = await networkAgent.actions.latency!.prepare(
      { target: { container: suite.name("db") }, args: { to: ["127.0.0.1:7070"], latency: "150ms" } },
      ctx,
    );
    expect(prepared.locks).toContainEqual(expect.stringMatching(/^docker:.+:[0-9a-f]{64}$/));
    await prepared.apply();
    const slow = await roundTrips(inside, "127.0.0.1", 7070, 3);
    expect(slow.replies).toEqual(["db:m0", "db:m1", "db:m2"]);
    expect(median(slow.ms)).toBeGreaterThanOrEqual(148);
    expect(await inside.exec(["iptables-save"])).toContain(`chaos:${prepared.revert!.data.tag}`);
    await networkAgent.revert(prepared.revert!, ctx);
    expect(await inside.exec(["iptables-save"])).not.toContain("chaos:");
    expect(median((await roundTrips(inside, "127.0.0.1", 7070, 3)).ms)).toBeLessThan(100);
  });

  it("a container on the host's network is refused: its namespace is the toolkit's own", async () => {
    await suite.start("hostnet");
    ctx = testContext();
    const err = await networkAgent.actions
      .partition!.prepare({ target: { container: suite.name("hostnet") }, args: {} }, ctx)
      .catch((e) => e);
    expect(err.code).toBe("invalid");
    expect(err.message).toContain("shares chaos's own network namespace");
  });
});

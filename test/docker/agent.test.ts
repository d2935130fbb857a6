import type Docker from "dockerode";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { AgentContext, PreparedFault } from "../../src/agents/agent.js";
import { dockerAgent } from "../../src/agents/docker/index.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { testContext } from "../support/agent-context.js";
import { describeWithDocker, startDockerSuite, type TestContainers } from "../support/docker.js";

let docker: Docker;
let containers: TestContainers;
const contexts: (AgentContext & { dispose(): Promise<void> })[] = [];

/** A run's context; each test gets its own, as each run does. */
function run(configuration: Record<string, unknown> = {}) {
  const ctx = testContext({ configuration });
  contexts.push(ctx);
  return ctx;
}

async function inject(
  ctx: AgentContext,
  action: string,
  target: Record<string, unknown>,
  args: Record<string, unknown> = {},
): Promise<{ fault: PreparedFault; output: unknown }> {
  const fault = await dockerAgent.actions[action]!.prepare({ target, args }, ctx);
  return { fault, output: await fault.apply() };
}

const probe = (ctx: AgentContext, name: string, args: Record<string, unknown>) =>
  dockerAgent.probes[name]!.run(args, ctx);

async function rejection(p: Promise<unknown>): Promise<ChaosError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChaosError);
  return err as ChaosError;
}

describeWithDocker("the docker agent on a real engine", () => {
  beforeAll(async () => {
    containers = await startDockerSuite();
    docker = containers.docker;
  }, 180_000);

  afterEach(async () => {
    for (const ctx of contexts.splice(0)) await ctx.dispose();
    await containers.removeAll();
  });

  afterAll(async () => {
    await containers?.removeAll();
  });

  it("pauses a container, and its revert unpauses it", async () => {
    await containers.start("pay");
    const ctx = run();
    const { fault, output } = await inject(ctx, "pause", { name: containers.name("pay") });
    expect(await containers.state("pay")).toBe("paused");
    expect(output).toMatchObject({ paused: [{ name: containers.name("pay") }] });
    expect(fault.revert).toMatchObject({ agent: "docker", kind: "unpause" });
    const id = (await docker.getContainer(containers.name("pay")).inspect()).Id;
    const engineId = ((await docker.info()) as { ID: string }).ID;
    expect(fault.locks).toEqual([`docker:${engineId}:${id}`]);
    await dockerAgent.revert(fault.revert!, ctx);
    expect(await containers.state("pay")).toBe("running");
  });

  it("leaves an already-paused container paused, before and after the revert", async () => {
    const labels = { "chaoskit.role": "pause-pair" };
    await containers.start("a", { labels });
    const b = await containers.start("b", { labels });
    await b.pause();
    const ctx = run();
    const { fault, output } = await inject(ctx, "pause", { labels, all: true });
    expect(output).toMatchObject({
      paused: [{ name: containers.name("a") }],
      skipped: [`${containers.name("b")} (paused)`],
    });
    expect(await containers.state("a")).toBe("paused");
    await dockerAgent.revert(fault.revert!, ctx);
    expect(await containers.state("a")).toBe("running");
    expect(await containers.state("b")).toBe("paused");
  });

  it("refuses to pause a container that is only paused already, touching nothing", async () => {
    const c = await containers.start("p");
    await c.pause();
    const err = await rejection(inject(run(), "pause", { name: containers.name("p") }));
    expect(err.message).toContain("can be paused");
    expect(await containers.state("p")).toBe("paused");
  });

  it("stops a container, and its revert starts it; an already-stopped one stays stopped", async () => {
    const labels = { "chaoskit.role": "stop-pair" };
    await containers.start("on", { labels });
    const off = await containers.start("off", { labels });
    await off.stop({ t: 0 });
    const ctx = run();
    const { fault, output } = await inject(ctx, "stop", { labels, all: true }, { timeout: 5 });
    expect(output).toMatchObject({ stopped: [{ name: containers.name("on") }] });
    expect(await containers.state("on")).toBe("exited");
    expect(fault.revert?.kind).toBe("start");
    await dockerAgent.revert(fault.revert!, ctx);
    expect(await containers.state("on")).toBe("running");
    expect(await containers.state("off")).toBe("exited");
  });

  it("kills with SIGKILL by default and journals the restart policy; the engine restarts it", async () => {
    await containers.start("k", { restart: "always" });
    const ctx = run();
    const before = await probe(ctx, "restarts", { name: containers.name("k") });
    expect(before.value).toBe(0);
    const { fault, output } = await inject(ctx, "kill", { name: containers.name("k") });
    expect(fault.revert).toBeUndefined();
    expect(output).toMatchObject({
      killed: [{ signal: "SIGKILL", via: "process", restartPolicy: "always", restartPolicyApplies: true }],
    });
    // The engine sees the crash and applies the restart policy: one restart, running again.
    const deadline = Date.now() + 10_000;
    while ((await probe(ctx, "restarts", { name: containers.name("k") })).value !== 1) {
      if (Date.now() > deadline) throw new Error("the engine never restarted the killed container");
      await new Promise((r) => setTimeout(r, 50));
    }
    await containers.waitForState("k", (s) => s === "running");
  });

  it("kills with the given signal, and a container without a restart policy stays down", async () => {
    await containers.start("t");
    const ctx = run();
    const { output } = await inject(
      ctx,
      "kill",
      { name: containers.name("t") },
      { signal: "SIGTERM", via: "engine" },
    );
    expect(output).toMatchObject({ killed: [{ signal: "SIGTERM", via: "engine", restartPolicy: "no" }] });
    await containers.waitForState("t", (s) => s === "exited");
    expect((await probe(ctx, "running", { name: containers.name("t") })).value).toBe(false);
  });

  it("restarts a container: it runs again with a new start time", async () => {
    const c = await containers.start("r");
    const started = (await c.inspect()).State.StartedAt;
    await inject(run(), "restart", { name: containers.name("r") }, { timeout: 1 });
    const info = await c.inspect();
    expect(info.State.Running).toBe(true);
    expect(info.State.StartedAt).not.toBe(started);
  });

  it("runs an argv in the container without a shell, and its revert-command undoes it", async () => {
    const c = await containers.start("x");
    const ctx = run();
    const write = ["/usr/bin/node", "-e", "require('fs').writeFileSync('/tmp/flag', 'on $HOME')"];
    const remove = ["/usr/bin/node", "-e", "require('fs').rmSync('/tmp/flag')"];
    const { fault } = await inject(
      ctx,
      "exec",
      { id: c.id.slice(0, 12) },
      { command: write, "revert-command": remove },
    );
    const read = [
      "/usr/bin/node",
      "-e",
      "process.stdout.write(require('fs').readFileSync('/tmp/flag','utf8'))",
    ];
    const { output } = await inject(run(), "exec", { id: c.id }, { command: read });
    // "$HOME" is not expanded: no shell ever saw the argv.
    expect(output).toMatchObject({ executed: [{ exitCode: 0, stdout: "on $HOME" }] });
    expect(fault.revert?.description).not.toContain("writeFileSync");
    await dockerAgent.revert(fault.revert!, ctx);
    const failed = await rejection(inject(run(), "exec", { id: c.id }, { command: read }));
    expect(failed.message).toMatch(/exited with 1: .*ENOENT/s);
  });

  it("refuses a target that matches nothing before anything is touched", async () => {
    const err = await rejection(inject(run(), "pause", { name: containers.name("nobody") }));
    expect(err.code).toBe("agent");
    expect(err.message).toBe(`no container matches name ${containers.name("nobody")}`);
    const none = await rejection(inject(run(), "stop", { labels: { "chaoskit.test": "no-such-run" } }));
    expect(none.message).toContain("no container matches labels chaoskit.test=no-such-run");
  });

  it("needs all or select when several containers match, and caps the blast radius", async () => {
    const labels = { "chaoskit.role": "replica" };
    for (const n of ["r1", "r2", "r3"]) await containers.start(n, { labels });
    const several = await rejection(inject(run(), "pause", { labels }));
    expect(several.message).toMatch(/^3 containers match labels chaoskit.role=replica/);
    const capped = await rejection(inject(run(), "pause", { labels, select: { mode: "all", max: 2 } }));
    expect(capped.message).toContain("more than max 2");
    for (const n of ["r1", "r2", "r3"]) expect(await containers.state(n)).toBe("running");

    const ctx = run();
    const pattern = `^${containers.name("r")}[0-9]$`;
    const one = await inject(ctx, "pause", {
      name: pattern,
      select: { mode: "count", count: 1, seed: 7, max: 2 },
    });
    const paused = (one.output as { paused: { name: string }[] }).paused.map((p) => p.name);
    expect(paused).toHaveLength(1);
    // The same seed picks the same container again.
    const states = await Promise.all(["r1", "r2", "r3"].map((n) => containers.state(n)));
    expect(states.filter((s) => s === "paused")).toHaveLength(1);
    expect((await probe(ctx, "running", { labels })).value).toBe(2);
    await dockerAgent.revert(one.fault.revert!, ctx);
    const all = await inject(ctx, "pause", { labels, all: true });
    expect((all.output as { paused: unknown[] }).paused).toHaveLength(3);
    expect((await probe(ctx, "running", { labels })).value).toBe(0);
    await dockerAgent.revert(all.fault.revert!, ctx);
    expect((await probe(ctx, "running", { labels })).value).toBe(3);
  });

  it("picks the same container for the same seed", async () => {
    const labels = { "chaoskit.role": "seeded" };
    for (const n of ["s1", "s2", "s3", "s4"]) await containers.start(n, { labels });
    const pick = async () => {
      const ctx = run();
      const { fault, output } = await inject(ctx, "pause", { labels, select: { mode: "one", seed: 42 } });
      await dockerAgent.revert(fault.revert!, ctx);
      return (output as { paused: { name: string }[] }).paused[0]!.name;
    };
    expect(await pick()).toBe(await pick());
  });

  it("refuses the same container twice while a fault of the run holds it, and allows it once reverted", async () => {
    await containers.start("h");
    const ctx = run();
    const { fault } = await inject(ctx, "pause", { name: containers.name("h") });
    const twice = await rejection(inject(ctx, "stop", { name: containers.name("h") }));
    expect(twice.code).toBe("invalid");
    expect(twice.message).toContain('is already held by "docker.pause on name');
    await dockerAgent.revert(fault.revert!, ctx);
    const again = await inject(ctx, "pause", { name: containers.name("h") });
    await dockerAgent.revert(again.fault.revert!, ctx);
    expect(await containers.state("h")).toBe("running");
  });

  it("reports a container removed mid-fault in the revert's note instead of failing", async () => {
    const c = await containers.start("gone");
    const ctx = run();
    const { fault } = await inject(ctx, "pause", { name: containers.name("gone") });
    await c.remove({ force: true });
    const outcome = await dockerAgent.revert(fault.revert!, ctx);
    expect(outcome).toEqual({
      note: `removed by someone else during the run, so not unpaused: ${containers.name("gone")} (${c.id.slice(0, 12)})`,
    });
  });

  it("reports a container removed between prepare and apply as gone", async () => {
    const c = await containers.start("late");
    const fault = await dockerAgent.actions.stop!.prepare(
      { target: { name: containers.name("late") }, args: {} },
      run(),
    );
    await c.remove({ force: true });
    expect(await fault.apply()).toEqual({ stopped: [], gone: [containers.name("late")] });
  });

  it("replays a revert from the ledger data alone, in a fresh context with no configuration", async () => {
    await containers.start("fresh");
    const { fault } = await inject(run(), "pause", { name: containers.name("fresh") });
    const recorded = JSON.parse(JSON.stringify(fault.revert));
    const previous = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "unix:///nonexistent/docker.sock"; // the entry names its engine itself
    try {
      await dockerAgent.revert(recorded, run());
    } finally {
      process.env.DOCKER_HOST = previous;
    }
    expect(await containers.state("fresh")).toBe("running");
  });

  it("probes running (a number, or a boolean for one container), health status and restarts", async () => {
    const labels = { "chaoskit.role": "probed" };
    await containers.start("ok", { labels, health: ["/usr/bin/node", "-e", "0"] });
    await containers.start("sick", { labels, health: ["/usr/bin/node", "-e", "process.exit(1)"] });
    const ctx = run();
    expect((await probe(ctx, "running", { labels })).value).toBe(2);
    expect((await probe(ctx, "running", { name: containers.name("ok") })).value).toBe(true);
    expect((await probe(ctx, "running", { name: containers.name("none") })).value).toBe(false);
    expect((await probe(ctx, "running", { name: `^${containers.name("none")}.*` })).value).toBe(0);
    await containers.waitForState("ok", () => true);
    const deadline = Date.now() + 15_000;
    let ok: unknown;
    let sick: unknown;
    while (Date.now() < deadline) {
      ok = (await probe(ctx, "healthy", { name: containers.name("ok") })).value;
      sick = (await probe(ctx, "healthy", { name: containers.name("sick") })).value;
      if (ok === "healthy" && sick === "unhealthy") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect([ok, sick]).toEqual(["healthy", "unhealthy"]);
    expect((await probe(ctx, "healthy", { labels })).value).toBe(1);
    expect((await probe(ctx, "healthy", { name: containers.name("none") })).value).toBeNull();
    expect((await probe(ctx, "restarts", { labels })).value).toBe(0);
  });
});

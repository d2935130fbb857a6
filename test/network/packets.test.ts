import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { AgentContext } from "../../src/agents/agent.js";
import { networkAgent } from "../../src/agents/network/index.js";
import { testContext } from "../support/agent-context.js";
import { ensureCliBuilt } from "../support/cli.js";
import {
  describeWithNamespaces,
  echoServer,
  requireNamespaces,
  roundTrips,
  TestNamespace,
  vethPair,
} from "../support/netns.js";

describeWithNamespaces("packet-level network faults inside a process's own namespace", () => {
  let ns: TestNamespace;
  let peerNs: TestNamespace;
  let target: { pid: number; port: number };
  let local: { pid: number; port: number };
  let remote: { pid: number; port: number };
  let addr: { a: string; b: string };
  let ctx: AgentContext & { dispose(): Promise<void> };

  beforeAll(async () => {
    requireNamespaces();
    await ensureCliBuilt();
    [ns, peerNs] = await Promise.all([TestNamespace.create(), TestNamespace.create()]);
    addr = await vethPair(ns, peerNs);
    [target, local, remote] = await Promise.all([
      echoServer(ns, "target", "0.0.0.0"),
      echoServer(ns, "local"),
      echoServer(peerNs, "remote", "0.0.0.0"),
    ]);
  }, 240_000);
  afterAll(async () => {
    await Promise.all([ns?.destroy(), peerNs?.destroy()]);
  });
  afterEach(async () => {
    await ctx?.dispose();
  });

  async function apply(action: string, args: Record<string, unknown>) {
    ctx = testContext();
    await networkAgent.prepareRun!(ctx);
    const prepared = await networkAgent.actions[action]!.prepare(
      { target: { process: { port: target.port } }, args },
      ctx,
    );
    await prepared.apply();
    return prepared.revert!;
  }

  it("partition (reject) to a peer: connections fail at once, the loopback is untouched, the revert heals it", async () => {
    expect((await roundTrips(ns, addr.b, remote.port, 1)).replies).toEqual(["remote:m0"]);
    const revert = await apply("partition", { to: [`${addr.b}:${remote.port}`], mode: "reject" });
    const started = Date.now();
    const cut = await roundTrips(ns, addr.b, remote.port, 1, 3_000);
    expect(cut.error).toMatch(/ECONNREFUSED|ECONNRESET/);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect((await roundTrips(ns, "127.0.0.1", local.port, 1)).replies).toEqual(["local:m0"]);
    await networkAgent.revert(revert, ctx);
    expect(await ns.rules()).not.toContain("chaos:");
    expect((await roundTrips(ns, addr.b, remote.port, 1)).replies).toEqual(["remote:m0"]);
  });

  it("partition (drop) from a peer on the target's port: the peer's connections time out, both ways, until the revert", async () => {
    expect((await roundTrips(peerNs, addr.a, target.port, 1)).replies).toEqual(["target:m0"]);
    const revert = await apply("partition", { from: [`${addr.b}/32:${target.port}`] });
    const rules = await ns.rules();
    expect(rules).toMatch(
      new RegExp(`-A INPUT -s ${addr.b}/32 -p tcp -m tcp --dport ${target.port} .*-j DROP`),
    );
    expect(rules).toMatch(
      new RegExp(`-A OUTPUT -d ${addr.b}/32 -p tcp -m tcp --sport ${target.port} .*-j DROP`),
    );
    expect((await roundTrips(peerNs, addr.a, target.port, 1, 1_500)).error).toBe("TIMEOUT");
    expect((await roundTrips(ns, addr.b, remote.port, 1)).replies).toEqual(["remote:m0"]);
    await networkAgent.revert(revert, ctx);
    expect((await roundTrips(peerNs, addr.a, target.port, 1)).replies).toEqual(["target:m0"]);
  });

  it("a one-way partition drops only the packets the target sends", async () => {
    const revert = await apply("partition", { to: [addr.b], direction: "egress" });
    const rules = (await ns.rules()).split("\n").filter((l) => l.includes("chaos:"));
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatch(new RegExp(`^-A OUTPUT -d ${addr.b}/32 .*--gid-owner .*-j DROP$`));
    expect((await roundTrips(ns, addr.b, remote.port, 1, 1_500)).error).toBe("TIMEOUT");
    await networkAgent.revert(revert, ctx);
    expect((await roundTrips(ns, addr.b, remote.port, 1)).replies).toEqual(["remote:m0"]);
  });

  it("loss drops packets at random with the statistic match; at probability 1 nothing gets through", async () => {
    const revert = await apply("loss", { to: [`${addr.b}/32`], probability: 1 });
    expect(await ns.rules()).toMatch(/-m statistic --mode random --probability 1\.0+ .*-j DROP/);
    expect((await roundTrips(ns, addr.b, remote.port, 1, 1_500)).error).toBe("TIMEOUT");
    await networkAgent.revert(revert, ctx);
    expect((await roundTrips(ns, addr.b, remote.port, 1)).replies).toEqual(["remote:m0"]);
  });

  it("a partition without peers cuts everything but the namespace's loopback", async () => {
    const revert = await apply("partition", { mode: "reject" });
    expect((await roundTrips(ns, addr.b, remote.port, 1, 3_000)).error).toMatch(/ECONNREFUSED|ECONNRESET/);
    expect((await roundTrips(ns, "127.0.0.1", local.port, 1)).replies).toEqual(["local:m0"]);
    await networkAgent.revert(revert, ctx);
  });

  it("malformed peers are refused before anything is touched, naming the entry", async () => {
    ctx = testContext();
    const err = await networkAgent.actions
      .partition!.prepare(
        { target: { process: { port: target.port } }, args: { to: ["db.internal:5432"] } },
        ctx,
      )
      .catch((e) => e);
    expect(err.code).toBe("invalid");
    expect(err.message).toContain("args.to[0]");
    expect(await ns.rules()).not.toContain("chaos:");
  });
});

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { AgentContext } from "../../src/agents/agent.js";
import { networkAgent } from "../../src/agents/network/index.js";
import { probeQdisc, qdiscHandle } from "../../src/agents/network/qdisc.js";
import { testContext } from "../support/agent-context.js";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import {
  describeWithNamespaces,
  echoServer,
  requireNamespaces,
  TestNamespace,
  vethPair,
} from "../support/netns.js";

/** A server in `ns` that answers "done" once it has received `bytes` bytes on a connection. */
function sinkServer(ns: TestNamespace, bytes: number): Promise<{ port: number }> {
  const script = `
    const s = require("net").createServer((c) => {
      let n = 0;
      c.on("data", (d) => { n += d.length; if (n >= ${bytes}) c.end("done"); });
      c.on("error", () => {});
    });
    s.listen(0, "0.0.0.0", () => console.log(s.address().port));`;
  const child = ns.spawn([process.execPath, "-e", script]);
  return new Promise((resolve) => child.stdout!.once("data", (d) => resolve({ port: Number(String(d)) })));
}

/** Sends `bytes` from inside `ns` to host:port and times until the sink says it has them all. */
async function sendMs(ns: TestNamespace, host: string, port: number, bytes: number): Promise<number> {
  const script = `
    const c = require("net").connect(${port}, ${JSON.stringify(host)});
    const t = performance.now();
    c.on("connect", () => c.write(Buffer.alloc(${bytes}, 97)));
    c.on("data", () => { console.log(Math.round(performance.now() - t)); process.exit(0); });
    c.on("error", (e) => { console.log(-1); process.exit(0); });
    setTimeout(() => { console.log(-2); process.exit(0); }, 30000);`;
  return Number((await ns.exec([process.execPath, "-e", script])).trim());
}

describeWithNamespaces("packet-level shaping (tc) inside a process's own namespace", () => {
  let ns: TestNamespace;
  let peerNs: TestNamespace;
  let target: { pid: number; port: number };
  let sink: { port: number };
  let addr: { a: string; b: string };
  let dir: string;
  let ctx: AgentContext & { dispose(): Promise<void> };
  const BYTES = 300_000;

  beforeAll(async () => {
    requireNamespaces();
    await ensureCliBuilt();
    [ns, peerNs] = await Promise.all([TestNamespace.create(), TestNamespace.create()]);
    addr = await vethPair(ns, peerNs);
    [target, sink] = await Promise.all([echoServer(ns, "target"), sinkServer(peerNs, BYTES)]);
    dir = await mkdtemp(join(tmpdir(), "ck-net-shaping-"));
  }, 240_000);
  afterAll(async () => {
    await Promise.all([ns?.destroy(), peerNs?.destroy()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await ctx?.dispose();
  });

  const qdiscs = () => ns.exec(["tc", "qdisc", "show"]);

  async function prepare(action: string, args: Record<string, unknown>) {
    ctx = testContext();
    await networkAgent.prepareRun!(ctx);
    const input = { target: { process: { pid: target.pid } }, args };
    await networkAgent.actions[action]!.preflight?.(input, ctx);
    return networkAgent.actions[action]!.prepare(input, ctx);
  }

  it("bandwidth via tbf: the namespace's interface sends at the rate, under the fault's handle, until the revert", async () => {
    const baseline = Math.min(
      await sendMs(ns, addr.b, sink.port, BYTES),
      await sendMs(ns, addr.b, sink.port, BYTES),
    );
    expect(baseline).toBeGreaterThan(0);
    const prepared = await prepare("bandwidth", { via: "tbf", rate: 100 });
    const output = (await prepared.apply()) as { namespaces: { interfaces: string[] }[] };
    const tag = prepared.revert!.data.tag as string;
    expect(output.namespaces[0]!.interfaces).toHaveLength(1);
    expect(await qdiscs()).toMatch(
      new RegExp(`qdisc tbf ${qdiscHandle(tag)} dev ck\\w+ root .*rate 800Kbit`),
    );
    // 300 KB at 100 KB/s: about 3 s, whatever the machine's speed; unshaped it is a fraction of that.
    const shaped = await sendMs(ns, addr.b, sink.port, BYTES);
    expect(shaped).toBeGreaterThanOrEqual(2_000);
    expect(shaped).toBeGreaterThan(baseline * 3);
    await networkAgent.revert(prepared.revert!, ctx);
    expect(await qdiscs()).not.toContain(qdiscHandle(tag));
    const after = await sendMs(ns, addr.b, sink.port, BYTES);
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThan(shaped / 2);
  }, 60_000);

  it("a killed helper leaves its qdisc; the revert from a fresh process removes only that one", async () => {
    const prepared = await prepare("bandwidth", { via: "tbf", rate: 50 });
    const output = (await prepared.apply()) as { namespaces: { helper: number; interfaces: string[] }[] };
    const handle = qdiscHandle(prepared.revert!.data.tag as string);
    process.kill(output.namespaces[0]!.helper, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    expect(await qdiscs()).toContain(handle);
    const fresh = testContext();
    try {
      await networkAgent.revert(prepared.revert!, fresh);
      expect(await qdiscs()).not.toContain(handle);
      // Someone else's qdisc on the same interface stays, whatever revert runs again.
      const dev = output.namespaces[0]!.interfaces[0]!;
      await ns.exec(["tc", "qdisc", "add", "dev", dev, "root", "handle", "4321:", "tbf", ...tbf]);
      await networkAgent.revert(prepared.revert!, fresh);
      expect(await qdiscs()).toContain("qdisc tbf 4321:");
      await ns.exec(["tc", "qdisc", "del", "dev", dev, "root"]);
    } finally {
      await fresh.dispose();
    }
  });

  it("via tbf refuses per-connection arguments before anything is touched", async () => {
    const before = await qdiscs();
    const err = await prepare("bandwidth", { via: "tbf", rate: 10, to: [addr.b] }).catch((e) => e);
    expect(err.code).toBe("invalid");
    expect(err.message).toContain("does not take to");
    expect(await qdiscs()).toBe(before);
  });

  it("network.netem: where the kernel lacks sch_netem, the run exits 4 at the preflight naming it, with nothing touched (where it has it, the run passes and leaves no qdisc)", async () => {
    const file = join(dir, "netem.yaml");
    await writeFile(
      file,
      `version: 1
title: netem
method:
  - action: network.netem
    target: { process: { pid: ${target.pid} } }
    args: { delay: 200ms }
    duration: 3s
`,
    );
    const before = await qdiscs();
    const missing = await probeQdisc("netem");
    const result = await runCli(
      ["run", file, "--ledger", join(dir, "ledger"), "--no-reports", "--out", join(dir, "out")],
      { timeoutMs: 60_000 },
    );
    if (missing !== undefined) {
      expect(result.code, result.stdout + result.stderr).toBe(4);
      expect(result.stdout + result.stderr).toContain("sch_netem");
      expect(result.stdout + result.stderr).toContain("nothing was touched");
      expect(await qdiscs()).toBe(before);
      expect(await ns.rules()).not.toContain("chaos:");
    } else {
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(await qdiscs()).toBe(before);
    }
  }, 90_000);

  it("network.netem arguments are checked: reorder without a delay is refused", async () => {
    const err = await prepare("netem", { reorder: 0.1 }).catch((e) => e);
    expect(err.code).toBe("invalid");
    expect(err.message).toContain("reorder needs a delay");
  });
});

const tbf = ["rate", "1mbit", "burst", "3200", "latency", "50ms"];

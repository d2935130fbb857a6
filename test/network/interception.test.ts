import { stat } from "node:fs/promises";
import http from "node:http";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { AgentContext, RevertDescription } from "../../src/agents/agent.js";
import { findHelpers } from "../../src/agents/inside/index.js";
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

function scrapeUnix(socketPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: "/metrics", timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describeWithNamespaces("network interception inside a process's own namespace", () => {
  let ns: TestNamespace;
  let peerNs: TestNamespace;
  let faulted: { pid: number; port: number };
  let other: { pid: number; port: number };
  let remote: { pid: number; port: number };
  let addr: { a: string; b: string };
  let ctx: AgentContext & { dispose(): Promise<void> };

  beforeAll(async () => {
    requireNamespaces();
    await ensureCliBuilt();
    [ns, peerNs] = await Promise.all([TestNamespace.create(), TestNamespace.create()]);
    addr = await vethPair(ns, peerNs);
    [faulted, other, remote] = await Promise.all([
      echoServer(ns, "db"),
      echoServer(ns, "cache"),
      echoServer(peerNs, "remote", "0.0.0.0"),
    ]);
  }, 240_000);
  afterAll(async () => {
    await Promise.all([ns?.destroy(), peerNs?.destroy()]);
  });
  afterEach(async () => {
    await ctx?.dispose();
  });

  async function apply(action: string, args: Record<string, unknown>, target: Record<string, unknown>) {
    ctx = testContext();
    await networkAgent.prepareRun!(ctx);
    const prepared = await networkAgent.actions[action]!.prepare({ target, args }, ctx);
    const output = (await prepared.apply()) as {
      namespaces: { helper: number; rules: number; metrics?: string }[];
    };
    return { prepared, output, revert: prepared.revert! };
  }

  it("latency reaches a process never configured for a proxy, only on the named destination, and goes with the revert", async () => {
    const before = await roundTrips(ns, "127.0.0.1", faulted.port, 3);
    expect(before.replies).toEqual(["db:m0", "db:m1", "db:m2"]);
    const { revert, output } = await apply(
      "latency",
      { to: [`127.0.0.1:${faulted.port}`], latency: "150ms" },
      { process: { pid: faulted.pid } },
    );
    expect(output.namespaces[0]!.rules).toBe(1);
    const slow = await roundTrips(ns, "127.0.0.1", faulted.port, 3);
    expect(slow.replies).toEqual(["db:m0", "db:m1", "db:m2"]);
    expect(median(slow.ms)).toBeGreaterThanOrEqual(148);
    expect(median(slow.ms)).toBeLessThan(400);
    const untouched = await roundTrips(ns, "127.0.0.1", other.port, 3);
    expect(median(untouched.ms)).toBeLessThan(100);
    expect(await ns.rules()).toContain(`--comment "chaos:${revert.data.tag}"`);
    // The interceptor's /metrics, from the host, on the unix socket the journal names: "m0\n".."m2\n" went
    // up (9 bytes), "db:m0\n".."db:m2\n" came down (18); the untouched destination is not counted.
    const socket = output.namespaces[0]!.metrics!.replace(/^unix:/, "");
    const scrape = await scrapeUnix(socket);
    expect(scrape.status).toBe(200);
    const labels = (direction: string) =>
      `{direction="${direction}",listener="0.0.0.0:${(output.namespaces[0] as { interceptor?: number }).interceptor}",proxy="${revert.data.tag}",upstream="127.0.0.1:${faulted.port}"}`;
    expect(scrape.body).toContain(`toxiproxy_proxy_received_bytes_total${labels("upstream")} 9`);
    expect(scrape.body).toContain(`toxiproxy_proxy_sent_bytes_total${labels("upstream")} 9`);
    expect(scrape.body).toContain(`toxiproxy_proxy_received_bytes_total${labels("downstream")} 18`);
    expect(scrape.body).toContain(`toxiproxy_proxy_sent_bytes_total${labels("downstream")} 18`);
    expect(scrape.body).not.toContain(`:${other.port}"`);
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
    await networkAgent.revert(revert, ctx);
    await expect(stat(socket)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await ns.rules()).not.toContain("chaos:");
    expect(await findHelpers(revert.data.tag as string)).toEqual([]);
    const after = await roundTrips(ns, "127.0.0.1", faulted.port, 3);
    expect(median(after.ms)).toBeLessThan(100);
  });

  it("a CIDR destination through a veth pair is intercepted, with its original address kept", async () => {
    const { revert } = await apply(
      "latency",
      { to: [`${addr.b}/30`], latency: "120ms", stream: "upstream" },
      { process: { port: faulted.port } },
    );
    const slow = await roundTrips(ns, addr.b, remote.port, 3);
    expect(slow.replies).toEqual(["remote:m0", "remote:m1", "remote:m2"]);
    expect(median(slow.ms)).toBeGreaterThanOrEqual(118);
    await networkAgent.revert(revert, ctx);
  });

  it("a connection whose answer the fault still holds is closed by the revert, never left hanging", async () => {
    const { revert, output } = await apply(
      "latency",
      { to: [`${addr.b}:${remote.port}`], latency: "20s", stream: "downstream" },
      { process: { port: faulted.port } },
    );
    const held = roundTrips(ns, addr.b, remote.port, 1, 9_000);
    // Reverted once the interceptor holds the answer: its line went up ("m0\n", 3 bytes).
    const socket = output.namespaces[0]!.metrics!.replace(/^unix:/, "");
    const sentUp = /toxiproxy_proxy_sent_bytes_total\{direction="upstream"[^}]*\} 3\b/;
    for (let t = Date.now(); !sentUp.test((await scrapeUnix(socket)).body); ) {
      expect(Date.now() - t, "the line through the interceptor").toBeLessThan(20_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    await networkAgent.revert(revert, ctx);
    const result = await held;
    // Left hanging, the client would wait for the answer until its own 9 s limit (error TIMEOUT).
    expect(result.replies).toEqual([]);
    expect(["ECONNRESET", "CLOSED"]).toContain(result.error);
    expect((await roundTrips(ns, addr.b, remote.port, 1)).replies).toEqual(["remote:m0"]);
  });

  it("other toxics work the same way: limit-data closes the connection after its bytes", async () => {
    const { revert } = await apply(
      "limit-data",
      { to: [`:${faulted.port}`], bytes: 7, stream: "downstream" },
      { process: { pid: faulted.pid } },
    );
    const cut = await roundTrips(ns, "127.0.0.1", faulted.port, 3);
    expect(cut.replies).toEqual(["db:m0"]);
    expect(cut.error).toBeDefined();
    await networkAgent.revert(revert, ctx);
    expect((await roundTrips(ns, "127.0.0.1", faulted.port, 3)).replies).toHaveLength(3);
  });

  it("rules carry the run id, and the revert removes exactly them, leaving the namespace's own rules", async () => {
    await ns.exec([
      "iptables",
      "-A",
      "OUTPUT",
      "-p",
      "tcp",
      "--dport",
      "1",
      "-m",
      "comment",
      "--comment",
      "owned-by-the-app",
      "-j",
      "ACCEPT",
    ]);
    try {
      const { revert } = await apply("latency", { latency: "10ms" }, { process: { pid: faulted.pid } });
      expect(revert.data.tag).toMatch(new RegExp(`^${ctx.runId}\\.`));
      const rules = await ns.rules();
      expect(rules).toContain("owned-by-the-app");
      expect(rules).toContain(`chaos:${revert.data.tag}`);
      await networkAgent.revert(revert, ctx);
      await networkAgent.revert(revert, ctx); // idempotent
      const after = await ns.rules();
      expect(after).toContain("owned-by-the-app");
      expect(after).not.toContain("chaos:");
    } finally {
      await ns.exec([
        "iptables",
        "-D",
        "OUTPUT",
        "-p",
        "tcp",
        "--dport",
        "1",
        "-m",
        "comment",
        "--comment",
        "owned-by-the-app",
        "-j",
        "ACCEPT",
      ]);
    }
  });

  it("a killed interceptor leaves redirected connections refused, never passed through, until the revert clears its rules", async () => {
    const { revert, output } = await apply(
      "latency",
      { to: [`127.0.0.1:${faulted.port}`], latency: "10ms" },
      { process: { pid: faulted.pid } },
    );
    process.kill(output.namespaces[0]!.helper, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    const refused = await roundTrips(ns, "127.0.0.1", faulted.port, 1);
    expect(refused.error).toBe("ECONNREFUSED");
    expect(await ns.rules()).toContain(`chaos:${revert.data.tag}`);
    const socket = output.namespaces[0]!.metrics!.replace(/^unix:/, "");
    await stat(socket); // a killed helper cannot remove its /metrics socket: the revert does
    await networkAgent.revert(revert, ctx);
    await expect(stat(socket)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await ns.rules()).not.toContain("chaos:");
    expect((await roundTrips(ns, "127.0.0.1", faulted.port, 1)).replies).toEqual(["db:m0"]);
  });

  it("a revert never enters a namespace whose recorded process is gone or was replaced", async () => {
    const { revert, output } = await apply("latency", { latency: "10ms" }, { process: { pid: faulted.pid } });
    process.kill(output.namespaces[0]!.helper, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    const namespaces = revert.data.namespaces as { startTime: number }[];
    const reused: RevertDescription = {
      ...revert,
      data: { ...revert.data, namespaces: namespaces.map((n) => ({ ...n, startTime: n.startTime + 1 })) },
    };
    const fresh = testContext();
    try {
      const outcome = await networkAgent.revert(reused, fresh);
      expect((outcome as { note: string }).note).toContain("left alone");
      expect(await ns.rules()).toContain(`chaos:${revert.data.tag}`);
      await networkAgent.revert(revert, fresh);
      expect(await ns.rules()).not.toContain("chaos:");
    } finally {
      await fresh.dispose();
    }
  });

  it("several processes in one namespace get one helper and one set of rules, under one lease", async () => {
    const marker = `ck-marker-${Date.now()}`;
    for (let i = 0; i < 2; i++) ns.spawn([process.execPath, "-e", "setInterval(() => {}, 1000)", marker]);
    await new Promise((r) => setTimeout(r, 500));
    const { prepared, output, revert } = await apply(
      "latency",
      { latency: "10ms" },
      { process: { name: marker, all: true } },
    );
    expect(output.namespaces).toHaveLength(1);
    expect((revert.data.namespaces as { label: string }[])[0]!.label.split(", ")).toHaveLength(2);
    expect(prepared.locks!.filter((l) => l.startsWith("netns:"))).toEqual([
      `netns:${(revert.data.namespaces as { bootId: string }[])[0]!.bootId}:${ns.inode}`,
    ]);
    await networkAgent.revert(revert, ctx);
  });

  it("network.http-status: an HTTP toxic of the embedded proxy through interception answers 503 to an app never pointed at a proxy", async () => {
    const http = ns.spawn([
      process.execPath,
      "-e",
      'const s = require("http").createServer((q, r) => r.end("ok")).listen(0, "127.0.0.1", () => console.log(s.address().port))',
    ]);
    const port = await new Promise<number>((resolve) =>
      http.stdout!.once("data", (d) => resolve(Number(String(d)))),
    );
    const get = () =>
      ns.exec([
        process.execPath,
        "-e",
        `require("http").get("http://127.0.0.1:${port}/pay", (r) => { let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => console.log(r.statusCode, b)); })`,
      ]);
    expect((await get()).trim()).toBe("200 ok");
    const { revert } = await apply(
      "http-status",
      { to: [`127.0.0.1:${port}`], status: 503, body: "down", match: { path: "/pay" } },
      { process: { pid: faulted.pid } },
    );
    expect((await get()).trim()).toBe("503 down");
    await networkAgent.revert(revert, ctx);
    expect((await get()).trim()).toBe("200 ok");
    expect(await ns.rules()).not.toContain("chaos:");
  });

  it("network.http-header, http-body, http-delay and http-abort act per request through interception, then all lifted", async () => {
    const http = ns.spawn([
      process.execPath,
      "-e",
      'const s = require("http").createServer((q, r) => r.end("ok")).listen(0, "127.0.0.1", () => console.log(s.address().port))',
    ]);
    const port = await new Promise<number>((resolve) =>
      http.stdout!.once("data", (d) => resolve(Number(String(d)))),
    );
    type Seen = { s?: number; b?: string; h?: string | null; ms?: number; e?: string };
    // The request is timed inside the namespace, so the time to start a process there does not count.
    const get = async (): Promise<Seen> =>
      JSON.parse(
        await ns.exec([
          process.execPath,
          "-e",
          `const t = Date.now(); require("http").get("http://127.0.0.1:${port}/pay", (r) => { let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => console.log(JSON.stringify({ s: r.statusCode, b, h: r.headers["x-fault"] ?? null, ms: Date.now() - t }))); }).on("error", (e) => console.log(JSON.stringify({ e: e.code })))`,
        ]),
      ) as Seen;
    const target = { process: { pid: faulted.pid } };
    const to = [`127.0.0.1:${port}`];
    const baseline = await get();
    expect(baseline).toMatchObject({ s: 200, b: "ok", h: null });
    const cases: [string, Record<string, unknown>, (seen: Seen) => void][] = [
      [
        "http-header",
        { set: { "x-fault": "yes" } },
        (seen) => expect(seen).toMatchObject({ s: 200, h: "yes" }),
      ],
      ["http-body", { body: "replaced" }, (seen) => expect(seen).toMatchObject({ s: 200, b: "replaced" })],
      ["http-delay", { latency: "400ms" }, (seen) => expect(seen.ms).toBeGreaterThanOrEqual(390)],
      ["http-abort", {}, (seen) => expect(seen.e).toBe("ECONNRESET")],
    ];
    for (const [action, args, check] of cases) {
      const { revert } = await apply(action, { to, ...args, match: { path: "/pay" } }, target);
      check(await get());
      await networkAgent.revert(revert, ctx);
    }
    expect(await get()).toMatchObject({ s: 200, b: "ok", h: null });
    expect(await ns.rules()).not.toContain("chaos:");
  });

  it("a target in chaos's own namespace is refused, with nothing touched", async () => {
    ctx = testContext();
    const err = await networkAgent.actions
      .latency!.prepare({ target: { process: { pid: process.pid } }, args: { latency: "1ms" } }, ctx)
      .catch((e) => e);
    expect(err.code).toBe("invalid");
  });
});

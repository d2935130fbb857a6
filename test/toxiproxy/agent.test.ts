import type net from "node:net";
import { Toxiproxy } from "toxiproxy-node-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import { toxiproxyAgent } from "../../src/agents/toxiproxy/index.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import {
  connect,
  echoRoundTrip,
  echoServer,
  outcome,
  quickestRoundTrip,
  readBytes,
  type TcpServer,
  tcpServer,
} from "../proxy/helpers.js";
import { type TestRun, testRun } from "./context.js";

let echo: TcpServer;
const runs: TestRun[] = [];
const sockets: net.Socket[] = [];

async function client(port: number): Promise<net.Socket> {
  const socket = await connect(port);
  sockets.push(socket);
  return socket;
}

/** A run against the embedded proxy, with one proxy `api` in front of `upstream`. */
async function embeddedRun(upstream: string, extra: Record<string, unknown>[] = []) {
  const port = await freePort();
  const run = testRun({
    toxiproxy: { proxies: [{ name: "api", listen: `127.0.0.1:${port}`, upstream }, ...extra] },
  });
  runs.push(run);
  // The embedded server starts on the agent's first use, as with a steady-state probe on the proxy.
  expect((await toxiproxyAgent.probes.proxy!.run({ proxy: "api" }, run.ctx)).value).toBe(true);
  return { run, port };
}

const toxicCount = async (run: TestRun, proxy = "api") =>
  (await toxiproxyAgent.probes.toxics!.run({ proxy }, run.ctx)).value as number;

beforeAll(async () => {
  echo = await echoServer();
});
afterAll(async () => {
  await echo.close();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const r of runs.splice(0)) await r.close();
});

describe("the toxiproxy agent on the embedded proxy", () => {
  it("adds measurable latency, and its revert lifts it and leaves no toxic behind", async () => {
    const { run, port } = await embeddedRun(echo.address);
    const socket = await client(port);
    // The 120 ms toxic holds every round trip back by 120 ms or more: the quickest of a few below that,
    // before and after, proves there is none, however busy the machine.
    expect(await quickestRoundTrip(socket, 5)).toBeLessThan(115);

    const fault = await run.inject("latency", { proxy: "api" }, { latency: "120ms" });
    expect(fault.revert).toMatchObject({ agent: "toxiproxy", kind: "undo" });
    expect(JSON.parse(JSON.stringify(fault.revert))).toEqual(fault.revert); // plain data
    expect((await echoRoundTrip(socket, Buffer.from("b"))).ms).toBeGreaterThanOrEqual(115);
    expect(await toxicCount(run)).toBe(1);

    await toxiproxyAgent.revert(fault.revert!, run.ctx);
    expect(await toxicCount(run)).toBe(0);
    expect(await quickestRoundTrip(socket, 5)).toBeLessThan(115);
  });

  it("caps bandwidth at the requested rate", async () => {
    const size = 250_000;
    const source = await tcpServer((s) => s.end(Buffer.alloc(size, 1)));
    try {
      const { run, port } = await embeddedRun(source.address);
      await run.inject("bandwidth", { proxy: "api" }, { rate: 500 });
      const start = performance.now();
      const data = await readBytes(await client(port), size);
      expect(data.length).toBe(size);
      expect(performance.now() - start).toBeGreaterThan(350);
    } finally {
      await source.close();
    }
  });

  it("resets connections with reset-peer", async () => {
    const { run, port } = await embeddedRun(echo.address);
    await run.inject("reset-peer", { proxy: "api" }, { timeout: "20ms" });
    const socket = await client(port);
    const ended = outcome(socket);
    socket.write("x");
    expect(await ended).toBe("reset");
  });

  it("takes a proxy down (connections refused) and brings it back on revert", async () => {
    const { run, port } = await embeddedRun(echo.address);
    const fault = await run.inject("down", { proxy: "api" });
    await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const probe = await toxiproxyAgent.probes.proxy!.run({ proxy: "api" }, run.ctx);
    expect(probe).toMatchObject({ value: false, fields: { exists: true, enabled: false } });
    await toxiproxyAgent.revert(fault.revert!, run.ctx);
    const { data } = await echoRoundTrip(await client(port), Buffer.from("back"));
    expect(data.toString()).toBe("back");
  });

  it("puts two toxics for stream both, and reverting twice equals reverting once", async () => {
    const { run } = await embeddedRun(echo.address);
    const fault = await run.inject("slow-close", { proxy: "api" }, { delay: "1s", stream: "both" });
    expect(await toxicCount(run)).toBe(2);
    expect(await toxiproxyAgent.revert(fault.revert!, run.ctx)).toBeUndefined();
    // The second finds them gone, and says so: within a run that means someone removed the fault meanwhile.
    expect(await toxiproxyAgent.revert(fault.revert!, run.ctx)).toMatchObject({
      vanished: true,
      note: expect.stringMatching(
        /^already gone, removed by someone else: chaos-.*-slow_close-(up|down)stream on api/,
      ),
    });
    expect(await toxicCount(run)).toBe(0);
  });

  it("never removes a toxic it did not add", async () => {
    const { run } = await embeddedRun(echo.address);
    const fault = await run.inject("latency", { proxy: "api" }, { latency: "10ms" });
    const url = (fault.revert!.data as { url: string }).url;
    const theirs = await new Toxiproxy(url).get("api");
    await theirs.addToxic({
      name: "user-own",
      type: "latency",
      stream: "upstream",
      toxicity: 1,
      attributes: { latency: 1, jitter: 0 },
    });
    await toxiproxyAgent.revert(fault.revert!, run.ctx);
    const left = await toxiproxyAgent.probes.toxics!.run({ proxy: "api" }, run.ctx);
    expect(left.fields).toMatchObject({ names: ["user-own"] });
  });

  it("removes what it added when a multi-toxic fault fails half-way", async () => {
    const { run } = await embeddedRun(echo.address, [
      { name: "second", listen: `127.0.0.1:${await freePort()}`, upstream: echo.address },
    ]);
    const prepared = await toxiproxyAgent.actions.latency!.prepare(
      { target: { proxy: ["api", "second"] }, args: { latency: "50ms" } },
      run.ctx,
    );
    // The second proxy vanishes between prepare and apply.
    const url = (prepared.revert!.data as { url: string }).url;
    await (await new Toxiproxy(url).get("second")).remove();
    await expect(prepared.apply()).rejects.toMatchObject({ code: "agent" });
    expect(await toxicCount(run, "api")).toBe(0);
  });

  it("partitions two services both ways: bytes stop flowing until the revert closes the stalled connection", async () => {
    const { run, port } = await embeddedRun(echo.address);
    // Same proxy, now described with the services it joins.
    run.ctx.configuration = {
      toxiproxy: {
        proxies: [
          {
            name: "api",
            listen: `127.0.0.1:${port}`,
            upstream: echo.address,
            from: "orders",
            to: "payments",
          },
        ],
      },
    };
    const socket = await client(port);
    const fault = await run.inject("partition", { from: "orders", to: "payments" });
    expect(await toxicCount(run)).toBe(2);
    let received = "";
    socket.on("data", (d: Buffer) => {
      received += d.toString();
    });
    const ended = new Promise<void>((resolve) => socket.once("end", () => resolve()));
    socket.write("lost?");
    await new Promise((r) => setTimeout(r, 150));
    expect(received).toBe("");
    await toxiproxyAgent.revert(fault.revert!, run.ctx);
    await ended;
    expect(received).toBe("");
    const healed = await client(port);
    expect((await echoRoundTrip(healed, Buffer.from("through"))).data.toString()).toBe("through");
  });

  it("refuses a partition between services no proxy joins, naming the known pairs", async () => {
    const run = testRun({
      toxiproxy: {
        proxies: [{ name: "p", listen: "127.0.0.1:0", upstream: echo.address, from: "a", to: "b" }],
      },
    });
    runs.push(run);
    const err = await toxiproxyAgent.actions
      .partition!.prepare({ target: { from: "x", to: "y" }, args: {} }, run.ctx)
      .catch((e) => e);
    expect(err).toBeInstanceOf(ChaosError);
    expect(err).toMatchObject({ code: "agent", hint: "configured: a → b" });
  });

  it("treats the revert of a fault on an embedded proxy that is gone as done", async () => {
    const { run } = await embeddedRun(echo.address);
    const fault = await run.inject("latency", { proxy: "api" }, { latency: "10ms" });
    await run.close(); // the embedded server goes with the run
    await expect(toxiproxyAgent.revert(fault.revert!, run.ctx)).resolves.toBeUndefined();
  });

  it("names the proxies it locks, and leaves alone a server that took over a dead run's port", async () => {
    const { run } = await embeddedRun(echo.address);
    const fault = await run.inject("latency", { proxy: "api" }, { latency: "10ms" });
    const url = fault.revert!.data.url as string;
    expect(fault.locks).toEqual([`toxiproxy:${url}:api`]);
    // As `chaos rollback` sees it after the run was killed: written by another process, whose embedded
    // server is gone; whatever answers at that URL now (here: this run's server) is not its to change.
    const fromDeadRun = JSON.parse(JSON.stringify(fault.revert));
    fromDeadRun.data.owner = process.pid + 1;
    await toxiproxyAgent.revert(fromDeadRun, run.ctx);
    expect(await toxicCount(run)).toBe(1);
    await toxiproxyAgent.revert(fault.revert!, run.ctx);
    expect(await toxicCount(run)).toBe(0);
  });
});

describe("the toxiproxy agent on an external Toxiproxy", () => {
  let server: ToxiproxyServer;
  beforeAll(async () => {
    server = await startToxiproxyServer({ port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("creates a configured proxy that is missing, and deletes it on revert; an existing one stays", async () => {
    const toxiproxy = new Toxiproxy(server.url);
    await toxiproxy.createProxy({ name: "existing", listen: "127.0.0.1:0", upstream: echo.address });
    const run = testRun({
      toxiproxy: {
        url: server.url,
        proxies: [
          { name: "fresh", listen: `127.0.0.1:${await freePort()}`, upstream: echo.address },
          { name: "existing", listen: "127.0.0.1:0", upstream: echo.address },
        ],
      },
    });
    runs.push(run);
    const fault = await run.inject("timeout", { proxy: ["fresh", "existing"] }, { timeout: "1s" });
    expect(fault.revert!.data).toMatchObject({ created: ["fresh"], embedded: false });
    expect((await toxiproxyAgent.probes.proxy!.run({ proxy: "fresh" }, run.ctx)).value).toBe(true);
    await toxiproxyAgent.revert(fault.revert!, run.ctx);
    expect((await toxiproxyAgent.probes.proxy!.run({ proxy: "fresh" }, run.ctx)).fields).toMatchObject({
      exists: false,
    });
    expect((await toxiproxyAgent.probes.proxy!.run({ proxy: "existing" }, run.ctx)).value).toBe(true);
    expect(await toxicCount(run, "existing")).toBe(0);
    await (await toxiproxy.get("existing")).remove();
  });

  it("fails with ChaosError('agent') after bounded retries when Toxiproxy is unreachable", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = testRun({ toxiproxy: { url, proxies: [] } });
    runs.push(run);
    const start = performance.now();
    const err = await toxiproxyAgent.actions
      .latency!.prepare({ target: { proxy: "x" }, args: { latency: "10ms" } }, run.ctx)
      .catch((e) => e);
    const elapsed = performance.now() - start;
    expect(err).toBeInstanceOf(ChaosError);
    expect(err).toMatchObject({ code: "agent" });
    expect((err as ChaosError).message).toContain(`toxiproxy at ${url} unreachable`);
    expect((err as ChaosError).hint).toBeTruthy();
    expect(elapsed).toBeGreaterThan(1000); // it retried with backoff
    expect(elapsed).toBeLessThan(6000);
  });

  it("refuses an unknown proxy that is not configured", async () => {
    const run = testRun({ toxiproxy: { url: server.url } });
    runs.push(run);
    const err = await toxiproxyAgent.actions
      .down!.prepare({ target: { proxy: "nope" }, args: {} }, run.ctx)
      .catch((e) => e);
    expect(err).toMatchObject({ code: "agent", message: `proxy nope not found at toxiproxy ${server.url}` });
  });
});

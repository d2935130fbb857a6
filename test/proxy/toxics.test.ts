import { describe, expect, it } from "vitest";
import { startToxiproxyServer } from "../../src/proxy/server.js";
import {
  connect,
  echoRoundTrip,
  embeddedServerWithEcho,
  outcome,
  quickestRoundTrip,
  readBytes,
  request,
  tcpServer,
} from "./helpers.js";

const setup = embeddedServerWithEcho();
const { proxyTo, addToxic, client } = setup.harness;

describe("toxics on real TCP traffic", () => {
  it("passes data through untouched without toxics, both ways", async () => {
    const socket = await client(await proxyTo(setup.echo().address));
    const payload = Buffer.alloc(3 << 20, 7);
    const { data } = await echoRoundTrip(socket, payload);
    expect(data.equals(payload)).toBe(true);
  });

  it("latency delays each round trip by about the requested time", async () => {
    const port = await proxyTo(setup.echo().address);
    await addToxic({ type: "latency", attributes: { latency: 100 } });
    const socket = await client(port);
    const { ms, data } = await echoRoundTrip(socket, Buffer.from("ping"));
    expect(data.toString()).toBe("ping");
    expect(ms).toBeGreaterThanOrEqual(99);
    expect(ms).toBeLessThan(1000);
  });

  it("bandwidth caps the throughput at the requested rate", async () => {
    const size = 300_000;
    const source = await tcpServer((s) => s.end(Buffer.alloc(size, 1)));
    try {
      const port = await proxyTo(source.address);
      await addToxic({ type: "bandwidth", attributes: { rate: 600 } }); // 600 KB/s: 0.5 s for 300 KB
      const start = performance.now();
      const data = await readBytes(await client(port), size);
      const seconds = (performance.now() - start) / 1000;
      expect(data.length).toBe(size);
      expect(seconds).toBeGreaterThan(0.35);
      expect(seconds).toBeLessThan(3);
    } finally {
      await source.close();
    }
  });

  it("reset_peer aborts the connection with a TCP RST", async () => {
    const port = await proxyTo(setup.echo().address);
    await addToxic({ type: "reset_peer", attributes: { timeout: 50 } });
    const socket = await client(port);
    const ended = outcome(socket);
    socket.write("hello");
    expect(await ended).toBe("reset");
  });

  it("timeout with a delay closes the connection without passing data", async () => {
    const port = await proxyTo(setup.echo().address);
    await addToxic({ type: "timeout", attributes: { timeout: 100 } });
    const socket = await client(port);
    const start = performance.now();
    const received = readBytes(socket, 1);
    socket.write("hello");
    expect((await received).length).toBe(0);
    expect(performance.now() - start).toBeGreaterThanOrEqual(90);
  });

  it("removing a timeout toxic closes the connection and drops what it held, as 2.12", async () => {
    const port = await proxyTo(setup.echo().address);
    await addToxic({ type: "timeout", name: "stall", attributes: { timeout: 0 } });
    const socket = await client(port);
    let received = "";
    socket.on("data", (d: Buffer) => {
      received += d.toString();
    });
    const ended = outcome(socket);
    socket.write("held");
    await new Promise((r) => setTimeout(r, 150));
    expect(received).toBe("");
    await request(setup.server().url, "DELETE", "/proxies/t/toxics/stall");
    expect(await ended).toBe("end");
    expect(received).toBe("");
  });

  it("limit_data lets the given number of bytes through, then closes", async () => {
    const port = await proxyTo(setup.echo().address);
    await addToxic({ type: "limit_data", attributes: { bytes: 10 } });
    const socket = await client(port);
    const received = readBytes(socket, 1000);
    socket.write(Buffer.alloc(100, 65));
    const data = await received;
    expect(data.length).toBe(10);
  });

  it("slicer cuts the data into small pieces that arrive separately", async () => {
    const pieces: number[] = [];
    const counter = await tcpServer((s) => s.on("data", (d: Buffer) => pieces.push(d.length)));
    try {
      const port = await proxyTo(counter.address);
      await addToxic({ type: "slicer", stream: "upstream", attributes: { average_size: 10, delay: 2000 } });
      const socket = await client(port);
      socket.write(Buffer.alloc(100, 66));
      await expect.poll(() => pieces.reduce((a, b) => a + b, 0)).toBe(100);
      expect(pieces.length).toBeGreaterThanOrEqual(5);
      expect(Math.max(...pieces)).toBeLessThan(100);
    } finally {
      await counter.close();
    }
  });

  it("slow_close delays the close of the stream", async () => {
    const port = await proxyTo(setup.echo().address);
    await addToxic({ type: "slow_close", attributes: { delay: 300 } });
    const socket = await client(port);
    const echoed = readBytes(socket, 2);
    socket.write("hi");
    expect((await echoed).toString()).toBe("hi");
    const start = performance.now();
    const ended = outcome(socket);
    socket.end();
    expect(await ended).toBe("end");
    expect(performance.now() - start).toBeGreaterThanOrEqual(280);
  });

  it("a toxic with toxicity 0 leaves connections untouched", async () => {
    const port = await proxyTo(setup.echo().address);
    await addToxic({ type: "timeout", toxicity: 0 });
    const { data } = await echoRoundTrip(await client(port), Buffer.from("through"));
    expect(data.toString()).toBe("through");
  });
});

describe("toxics on live connections", () => {
  it("are applied when added, changed when updated and lifted when removed", async () => {
    const socket = await client(await proxyTo(setup.echo().address));
    const ping = async () => (await echoRoundTrip(socket, Buffer.from("x"))).ms;
    // A latency toxic of L ms holds every round trip back by at least L: the quickest of a few round trips
    // below L proves it is gone, whatever the machine's load. The baseline, measured here without a toxic,
    // shows that this machine can tell them apart at all.
    const baseline = await quickestRoundTrip(socket, 5);
    expect(baseline).toBeLessThan(55);
    await addToxic({ type: "latency", name: "lat", attributes: { latency: 150 } });
    expect(await ping()).toBeGreaterThanOrEqual(145);
    await request(
      setup.server().url,
      "POST",
      "/proxies/t/toxics/lat",
      JSON.stringify({ attributes: { latency: 60 } }),
    );
    expect(await ping()).toBeGreaterThanOrEqual(55);
    expect(await quickestRoundTrip(socket, 5)).toBeLessThan(145);
    await request(setup.server().url, "DELETE", "/proxies/t/toxics/lat");
    expect(await quickestRoundTrip(socket, 5)).toBeLessThan(55);
  });

  it("delivers data held by a toxic, in order, when the toxic is removed", async () => {
    const socket = await client(await proxyTo(setup.echo().address));
    await addToxic({ type: "latency", name: "slow", attributes: { latency: 5000 } });
    const received = readBytes(socket, 6);
    socket.write("abc");
    socket.write("def");
    await new Promise((r) => setTimeout(r, 50));
    await request(setup.server().url, "DELETE", "/proxies/t/toxics/slow");
    expect((await received).toString()).toBe("abcdef");
  });

  it("a disabled proxy closes its live connections and refuses new ones", async () => {
    const port = await proxyTo(setup.echo().address);
    const socket = await client(port);
    const ended = outcome(socket);
    await request(setup.server().url, "PATCH", "/proxies/t", JSON.stringify({ enabled: false }));
    expect(["end", "reset"]).toContain(await ended);
    await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("the data path", () => {
  it("keeps a half-closed connection open for the answer", async () => {
    const delayed = await tcpServer((s) => {
      let got = "";
      s.on("data", (d: Buffer) => {
        got += d.toString();
      });
      s.on("end", () => setTimeout(() => s.end(`answer to ${got}`), 50));
    });
    try {
      const socket = await client(await proxyTo(delayed.address));
      const answer = readBytes(socket, 1 << 20);
      socket.end("question");
      expect((await answer).toString()).toBe("answer to question");
    } finally {
      await delayed.close();
    }
  });

  it("carries a thousand concurrent connections", async () => {
    const port = await proxyTo(setup.echo().address);
    const conns = await Promise.all(Array.from({ length: 1000 }, () => client(port)));
    const answers = await Promise.all(conns.map((s, i) => echoRoundTrip(s, Buffer.from(`msg-${i}`))));
    answers.forEach(({ data }, i) => {
      expect(data.toString()).toBe(`msg-${i}`);
    });
  });

  it("applies back-pressure: a reader that does not read stalls the writer instead of filling memory", async () => {
    const stalled = await tcpServer((s) => s.pause());
    try {
      const socket = await client(await proxyTo(stalled.address));
      const total = 96 << 20;
      const chunk = Buffer.alloc(1 << 20);
      for (let i = 0; i < total / chunk.length; i++) socket.write(chunk);
      await new Promise((r) => setTimeout(r, 500));
      // Bytes the kernel accepted from the client: bounded by socket buffers and the proxy's limits.
      const accepted = socket.bytesWritten - socket.writableLength;
      expect(accepted).toBeGreaterThan(0);
      expect(accepted).toBeLessThan(total / 2);
    } finally {
      await stalled.close();
    }
  });
});

describe("closing the server", () => {
  it("closes every listener and every live connection", async () => {
    const own = await startToxiproxyServer({
      port: 0,
      proxies: [{ name: "c", listen: "127.0.0.1:0", upstream: setup.echo().address }],
    });
    const proxy = JSON.parse((await request(own.url, "GET", "/proxies/c")).body) as { listen: string };
    const port = Number(proxy.listen.split(":")[1]);
    const before = setup.echo().accepted.length;
    const conns = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
    await Promise.all(conns.map((s) => echoRoundTrip(s, Buffer.from("x"))));
    const endings = conns.map((s) => outcome(s));
    await own.close();
    for (const e of await Promise.all(endings)) expect(["end", "reset"]).toContain(e);
    const upstreamSides = setup.echo().accepted.slice(before);
    expect(upstreamSides).toHaveLength(20);
    await expect.poll(() => upstreamSides.every((s) => s.destroyed)).toBe(true);
    await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await expect(request(own.url, "GET", "/version")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    for (const s of conns) s.destroy();
  });
});

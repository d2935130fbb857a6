import type net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_TIMER_MS } from "../../src/proxy/toxics/timer.js";
import { echoRoundTrip, embeddedServerWithEcho, outcome, type TcpServer, tcpServer } from "./helpers.js";

// Toxics on real connections, each test asserting what Toxiproxy 2.12's toxics do (toxics/*.go, link.go).

const setup = embeddedServerWithEcho();
const upstreams: TcpServer[] = [];
const { proxyTo, addToxic: toxic, client } = setup.harness;
afterEach(async () => {
  for (const u of upstreams.splice(0)) await u.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything a socket receives so far, as text. */
function collect(socket: net.Socket): { text: () => string } {
  let text = "";
  socket.on("data", (d: Buffer) => {
    text += d.toString();
  });
  return { text: () => text };
}

/** An upstream that records the size and arrival time (performance.now()) of every read. */
async function recordingUpstream(): Promise<{ address: string; reads: { at: number; size: number }[] }> {
  const reads: { at: number; size: number }[] = [];
  const u = await tcpServer((s) =>
    s.on("data", (d: Buffer) => {
      reads.push({ at: performance.now(), size: d.length });
    }),
  );
  upstreams.push(u);
  return { address: u.address, reads };
}

describe("bandwidth", () => {
  it("at rate 0 delivers nothing, holding the data until the rate changes", async () => {
    const socket = await client(await proxyTo(setup.echo().address));
    await toxic({ type: "bandwidth", name: "bw", attributes: { rate: 0 } });
    const got = collect(socket);
    socket.write("abc");
    await sleep(300);
    expect(got.text()).toBe("");
    await toxic({ attributes: { rate: 1000 } }, "bw");
    await expect.poll(() => got.text()).toBe("abc");
  });
});

describe("timeout", () => {
  it("with a value is an idle timeout: every byte restarts it", async () => {
    const socket = await client(await proxyTo(setup.echo().address));
    await toxic({ type: "timeout", stream: "upstream", attributes: { timeout: 300 } });
    const ended = outcome(socket);
    let closed = false;
    void ended.then(() => {
      closed = true;
    });
    for (let i = 0; i < 6; i++) {
      socket.write("x");
      await sleep(100);
    }
    expect(closed).toBe(false); // 600 ms after the toxic, but never 300 ms idle
    const lastByte = performance.now();
    expect(await ended).toBe("end");
    expect(performance.now() - lastByte).toBeGreaterThanOrEqual(180);
  });
});

describe("timers longer than 2^31 − 1 ms", () => {
  it.each([
    ["timeout", { timeout: MAX_TIMER_MS + 1000 }, "write"],
    ["reset_peer", { timeout: MAX_TIMER_MS + 1000 }, "write"],
    ["slow_close", { delay: MAX_TIMER_MS + 1000 }, "end"],
  ])("%s waits instead of firing at once", async (type, attributes, how) => {
    const socket = await client(await proxyTo(setup.echo().address));
    await toxic({ type, stream: "upstream", attributes });
    let ended = false;
    void outcome(socket).then(() => {
      ended = true;
    });
    if (how === "end") socket.end("x");
    else socket.write("x");
    await sleep(300);
    expect(ended).toBe(false);
  });
});

describe("reset_peer", () => {
  it("added to a connection already open closes it normally (EOF), not with a RST", async () => {
    const socket = await client(await proxyTo(setup.echo().address));
    expect((await echoRoundTrip(socket, Buffer.from("open"))).data.toString()).toBe("open");
    await toxic({ type: "reset_peer", attributes: { timeout: 0 } });
    const ended = outcome(socket);
    socket.write("now");
    expect(await ended).toBe("end");
  });

  it.each([
    ["present with toxicity 0, turns an upstream's normal close into a RST", true, "reset"],
    ["absent, lets the same upstream close reach the client as EOF", false, "end"],
  ])("%s", async (_, present, expected) => {
    const closing = await tcpServer((s) => s.once("data", () => s.end("bye")));
    upstreams.push(closing);
    const port = await proxyTo(closing.address);
    if (present) await toxic({ type: "reset_peer", toxicity: 0 });
    const socket = await client(port);
    const ended = outcome(socket);
    socket.write("hi");
    expect(await ended).toBe(expected);
  });
});

describe("slicer", () => {
  it.each([
    [100, 16, [62, 63]],
    [300, 4, [250]],
  ])(
    "cuts 1000 bytes at average %i into %i pieces sized as slicer.go halves them",
    async (average, count, sizes) => {
      const upstream = await recordingUpstream();
      const socket = await client(await proxyTo(upstream.address));
      await toxic({
        type: "slicer",
        stream: "upstream",
        attributes: { average_size: average, delay: 20_000 },
      });
      socket.write(Buffer.alloc(1000, 1));
      await expect.poll(() => upstream.reads.reduce((n, r) => n + r.size, 0)).toBe(1000);
      expect(upstream.reads).toHaveLength(count);
      for (const { size } of upstream.reads) expect(sizes).toContain(size);
    },
  );

  it("sends the first piece at once and pauses `delay` after each piece", async () => {
    const upstream = await recordingUpstream();
    const socket = await client(await proxyTo(upstream.address));
    await toxic({ type: "slicer", stream: "upstream", attributes: { average_size: 300, delay: 200_000 } });
    const sent = performance.now();
    socket.write(Buffer.alloc(1000, 1));
    await expect.poll(() => upstream.reads.length, { timeout: 3000 }).toBe(4);
    // At once: before the 200 ms pause that follows each piece, which is what the gaps below are judged by.
    expect(upstream.reads[0]!.at - sent).toBeLessThan(190);
    const gaps = upstream.reads.slice(1).map((r, i) => r.at - upstream.reads[i]!.at);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(190);
      expect(gap).toBeLessThan(400);
    }
    // Three pauses, not four: none before the first piece.
    expect(upstream.reads[3]!.at - sent).toBeLessThan(4 * 200 - 50);
  });

  it("never merges pieces at average 1", async () => {
    const upstream = await recordingUpstream();
    const socket = await client(await proxyTo(upstream.address));
    await toxic({ type: "slicer", stream: "upstream", attributes: { average_size: 1 } });
    socket.write("abcdefghijklmnopqrst");
    await expect.poll(() => upstream.reads.length).toBe(20);
    expect(upstream.reads.every((r) => r.size === 1)).toBe(true);
  });
});

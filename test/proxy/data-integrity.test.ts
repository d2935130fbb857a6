import { createHash, randomBytes } from "node:crypto";
import type net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { connect, request, type TcpServer, tcpServer } from "./helpers.js";

const SIZE = 64 << 20;

let server: ToxiproxyServer;
let upstream: TcpServer;
let clientPayload: Buffer;
let serverPayload: Buffer;
/** The digest of what the upstream server received on its latest connection. */
let received: Promise<string>;
let onUpstreamBytes: ((bytes: number) => void) | undefined;
/** When set, both ends stop reading for a few milliseconds after every 2 MiB, so the proxy's writes queue. */
let stalling = false;
const sockets: net.Socket[] = [];

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

/** Hashes everything `socket` receives; resolves with the digest at its end. */
function hashIncoming(socket: net.Socket, onBytes?: (bytes: number) => void): Promise<string> {
  const hash = createHash("sha256");
  let bytes = 0;
  let nextStall = 2 << 20;
  socket.on("data", (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
    onBytes?.(bytes);
    if (stalling && bytes >= nextStall) {
      nextStall += 2 << 20;
      socket.pause();
      setTimeout(() => socket.resume(), 5);
    }
  });
  return new Promise((resolve) => socket.on("end", () => resolve(hash.digest("hex"))));
}

beforeAll(async () => {
  clientPayload = randomBytes(SIZE);
  serverPayload = randomBytes(SIZE);
  server = await startToxiproxyServer({ port: 0 });
  // Hashes what arrives and, at the same time, sends its own payload: both directions carry data at once.
  upstream = await tcpServer((socket) => {
    received = hashIncoming(socket, (bytes) => onUpstreamBytes?.(bytes));
    socket.end(serverPayload);
  });
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});
afterEach(async () => {
  onUpstreamBytes = undefined;
  stalling = false;
  for (const s of sockets.splice(0)) s.destroy();
  await request(server.url, "DELETE", "/proxies/t");
});

async function api(method: string, path: string, body?: unknown): Promise<void> {
  const res = await request(server.url, method, path, body === undefined ? undefined : JSON.stringify(body));
  expect(res.status).toBeLessThan(300);
}

/** Sends the client payload through a new proxy while reading the server's; resolves with both digests. */
async function exchange(): Promise<{ atServer: string; atClient: string }> {
  const res = await request(
    server.url,
    "POST",
    "/proxies",
    JSON.stringify({ name: "t", listen: "127.0.0.1:0", upstream: upstream.address }),
  );
  expect(res.status).toBe(201);
  const socket = await connect(Number((JSON.parse(res.body) as { listen: string }).listen.split(":")[1]));
  sockets.push(socket);
  const atClient = hashIncoming(socket);
  // Sent in pieces of varied sizes, so reads land at every offset of the proxy's read buffer.
  for (let at = 0, i = 0; at < SIZE; i++) {
    const size = [1, 1000, 65536, 300000, 1 << 20][i % 5]!;
    socket.write(clientPayload.subarray(at, at + size));
    at += size;
  }
  socket.end();
  return { atClient: await atClient, atServer: await received };
}

describe("data integrity through the proxy", () => {
  it("delivers 64 MiB each way at once, byte for byte, without toxics", async () => {
    const { atServer, atClient } = await exchange();
    expect(atServer).toBe(sha256(clientPayload));
    expect(atClient).toBe(sha256(serverPayload));
  }, 60_000);

  it("delivers 64 MiB each way, byte for byte, when both ends stop reading now and then", async () => {
    stalling = true;
    const { atServer, atClient } = await exchange();
    expect(atServer).toBe(sha256(clientPayload));
    expect(atClient).toBe(sha256(serverPayload));
  }, 60_000);

  it("delivers 64 MiB each way, byte for byte, while toxics are added and removed mid-stream", async () => {
    const steps: Promise<void>[] = [];
    let stage = 0;
    onUpstreamBytes = (bytes) => {
      if (stage === 0 && bytes >= SIZE / 4) {
        stage = 1;
        steps.push(
          api("POST", "/proxies/t/toxics", {
            name: "up",
            type: "latency",
            stream: "upstream",
            attributes: { latency: 5 },
          }),
          api("POST", "/proxies/t/toxics", {
            name: "down",
            type: "latency",
            attributes: { latency: 5, jitter: 3 },
          }),
        );
      } else if (stage === 1 && bytes >= SIZE / 2) {
        stage = 2;
        // Removing a toxic hands what it holds back to the link, in order.
        steps.push(api("DELETE", "/proxies/t/toxics/up"), api("DELETE", "/proxies/t/toxics/down"));
      }
    };
    const { atServer, atClient } = await exchange();
    await Promise.all(steps);
    expect(stage).toBe(2);
    expect(atServer).toBe(sha256(clientPayload));
    expect(atClient).toBe(sha256(serverPayload));
  }, 60_000);
});

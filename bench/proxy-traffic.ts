/**
 * The traffic side of the proxy benchmark, run in a worker thread so that the proxy (main thread) and the
 * endpoints (this thread) each have an event loop and a core, as with a real Toxiproxy process.
 */
import net from "node:net";
import { parentPort } from "node:worker_threads";

export type TrafficRequest =
  | { op: "start" }
  | { op: "bulk"; port: number; bytes: number }
  | { op: "rtt"; port: number; count: number; size: number }
  | { op: "stop" };

const port = parentPort!;
let sinkReceived = 0;
let onSinkProgress: (() => void) | undefined;
const servers: net.Server[] = [];

function listen(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on("error", () => undefined);
    onSocket(s);
  });
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)),
  );
}

function dial(to: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port: to, noDelay: true }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Sends `bytes` as fast as the path allows; resolves with MB/s once the sink has received them all. */
async function bulk(to: number, bytes: number): Promise<number> {
  const socket = await dial(to);
  const chunk = Buffer.alloc(1 << 20, 97);
  const start = performance.now();
  const expected = sinkReceived + bytes;
  const done = new Promise<void>((resolve) => {
    onSinkProgress = () => {
      if (sinkReceived >= expected) resolve();
    };
  });
  // Keep a few chunks queued so the socket never waits for the next write.
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    socket.write(chunk);
    if (socket.writableLength >= 4 * chunk.length) await new Promise((r) => socket.once("drain", r));
  }
  await done;
  const seconds = (performance.now() - start) / 1000;
  socket.destroy();
  return bytes / 1e6 / seconds;
}

/** Sequential request/response round trips against the echo server; returns each one in microseconds. */
async function rtt(to: number, count: number, size: number): Promise<number[]> {
  const socket = await dial(to);
  const payload = Buffer.alloc(size, 98);
  const times: number[] = [];
  let pending = 0;
  let resolveOne: (() => void) | undefined;
  socket.on("data", (d: Buffer) => {
    pending -= d.length;
    if (pending <= 0) resolveOne?.();
  });
  for (let i = 0; i < count; i++) {
    pending = size;
    const start = performance.now();
    await new Promise<void>((resolve) => {
      resolveOne = resolve;
      socket.write(payload);
    });
    times.push((performance.now() - start) * 1000);
  }
  socket.destroy();
  return times;
}

port.on("message", async (msg: TrafficRequest) => {
  switch (msg.op) {
    case "start": {
      const sink = await listen((s) =>
        s.on("data", (d: Buffer) => {
          sinkReceived += d.length;
          onSinkProgress?.();
        }),
      );
      const echo = await listen((s) => s.pipe(s));
      port.postMessage({ sink, echo });
      break;
    }
    case "bulk":
      port.postMessage(await bulk(msg.port, msg.bytes));
      break;
    case "rtt":
      port.postMessage(await rtt(msg.port, msg.count, msg.size));
      break;
    case "stop":
      for (const s of servers) s.close();
      port.close();
      break;
  }
});

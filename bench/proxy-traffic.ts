/**
 * The traffic side of the proxy benchmark: a bulk sink, an echo server and the clients that drive them. It
 * runs in processes of its own (forked by proxy.ts), apart from the proxy as an application is apart from a
 * Toxiproxy process; the direct and the proxied measurements use the same processes, so the proxy hop is
 * the only difference.
 */
import net from "node:net";
import { cpuMsSince } from "./machine-load.js";

export type TrafficRequest =
  | { op: "start" }
  | { op: "bulk"; port: number; bytes: number }
  | { op: "rtt"; port: number; count: number; size: number }
  | { op: "hold"; ms: number }
  | { op: "stop" };

export interface BulkResult {
  mbPerSecond: number;
  /** CPU time this process spent on the run (client and sink together). */
  cpuMs: number;
}

let sinkReceived = 0;
/** How long the held echo server keeps each message before it echoes it (set by the "hold" op). */
let holdMs = 0;
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

/** Sends `bytes` as fast as the path allows; done once the sink has received them all. */
async function bulk(to: number, bytes: number): Promise<BulkResult> {
  const socket = await dial(to);
  const chunk = Buffer.alloc(1 << 20, 97);
  const cpu = process.cpuUsage();
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
  const cpuMs = cpuMsSince(cpu);
  socket.destroy();
  return { mbPerSecond: bytes / 1e6 / seconds, cpuMs };
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

/**
 * Calls `fn` at `due` (performance.now() ms) to within microseconds: a timer until 4 ms before, then a
 * spin. Only the benchmark's baseline server uses it, so that its answers after a hold of L ms show what
 * this machine adds to a reply after L ms of quiet (waking the sleeping client, the scheduler), and
 * nothing of a timer's own error.
 */
function exactlyAt(due: number, fn: () => void): void {
  const left = due - performance.now();
  if (left > 5) {
    setTimeout(() => exactlyAt(due, fn), left - 4);
    return;
  }
  while (performance.now() < due) {
    // spin: at most 5 ms, once per held message
  }
  fn();
}

async function answer(msg: TrafficRequest): Promise<unknown> {
  switch (msg.op) {
    case "start": {
      const sink = await listen((s) =>
        s.on("data", (d: Buffer) => {
          sinkReceived += d.length;
          onSinkProgress?.();
        }),
      );
      const echo = await listen((s) => s.pipe(s));
      const held = await listen((s) =>
        s.on("data", (d: Buffer) => exactlyAt(performance.now() + holdMs, () => s.write(d))),
      );
      return { sink, echo, held };
    }
    case "bulk":
      return bulk(msg.port, msg.bytes);
    case "rtt":
      return rtt(msg.port, msg.count, msg.size);
    case "hold":
      holdMs = msg.ms;
      return undefined;
    case "stop":
      for (const s of servers) s.close();
      process.disconnect();
      return undefined;
  }
}

process.on("message", (msg: TrafficRequest) => {
  answer(msg).then(
    (value) => process.connected && process.send?.({ value }),
    (err: Error) => process.connected && process.send?.({ error: err.message }),
  );
});

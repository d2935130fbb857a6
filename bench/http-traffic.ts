/**
 * The traffic side of the HTTP proxy benchmark, in processes of its own (forked by http-proxy.ts): a
 * keep-alive HTTP server, and a client that sends requests over keep-alive connections, one at a time per
 * connection, reading each fixed-size answer before the next request.
 */
import http from "node:http";
import net from "node:net";

export type HttpTrafficRequest =
  | { op: "serve" }
  | { op: "load"; port: number; connections: number; requests: number }
  | { op: "stop" };

export interface LoadResult {
  requestsPerSecond: number;
  /** Microseconds from each request's write to its answer's last byte. */
  times: number[];
}

const REQUEST = Buffer.from("GET /orders/42 HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\n\r\n");
const BODY = JSON.stringify({ id: 42, status: "paid", amount: 1999 });

let server: http.Server | undefined;

function serve(): Promise<number> {
  server = http.createServer((_req, res) => {
    res.sendDate = false;
    res.writeHead(200, { "content-type": "application/json", "content-length": BODY.length }).end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server!.listen(0, "127.0.0.1", () => resolve((server!.address() as net.AddressInfo).port)),
  );
}

/** One connection's requests, in turn; resolves with the time each took. */
function oneConnection(port: number, requests: number, answerBytes: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const times: number[] = [];
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    let got = 0;
    let sent = 0;
    const next = (): void => {
      got = 0;
      sent = performance.now();
      socket.write(REQUEST);
    };
    socket.on("connect", next);
    socket.on("data", (chunk: Buffer) => {
      got += chunk.length;
      if (got < answerBytes) return;
      times.push((performance.now() - sent) * 1000);
      if (times.length === requests) {
        socket.destroy();
        resolve(times);
      } else next();
    });
    socket.on("error", reject);
  });
}

/** The size of one answer, read off a first request. */
async function answerSize(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => socket.write(REQUEST));
    let data = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf("\r\n\r\n");
      if (end >= 0 && data.length >= end + 4 + BODY.length) {
        socket.destroy();
        resolve(end + 4 + BODY.length);
      }
    });
    socket.on("error", reject);
  });
}

async function load(port: number, connections: number, requests: number): Promise<LoadResult> {
  const size = await answerSize(port);
  const start = performance.now();
  const all = await Promise.all(
    Array.from({ length: connections }, () => oneConnection(port, Math.ceil(requests / connections), size)),
  );
  const seconds = (performance.now() - start) / 1000;
  const times = all.flat();
  return { requestsPerSecond: times.length / seconds, times };
}

process.on("message", async (req: HttpTrafficRequest) => {
  try {
    if (req.op === "serve") process.send!({ value: { port: await serve() } });
    else if (req.op === "load") process.send!({ value: await load(req.port, req.connections, req.requests) });
    else {
      server?.close();
      process.exit(0);
    }
  } catch (err) {
    process.send!({ error: (err as Error).message });
  }
});

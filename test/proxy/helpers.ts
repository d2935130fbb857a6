import http from "node:http";
import net from "node:net";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";

export interface TcpServer {
  port: number;
  address: string;
  /** Sockets the server accepted so far. */
  accepted: net.Socket[];
  close(): Promise<void>;
}

/** A loopback TCP server; `onSocket` decides what it does with each connection. */
export async function tcpServer(onSocket: (socket: net.Socket) => void): Promise<TcpServer> {
  const accepted: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    accepted.push(socket);
    socket.on("error", () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of accepted) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Echoes everything back; ends its side when the client ends (half-close aware). */
export const echoServer = (): Promise<TcpServer> =>
  tcpServer((socket) => {
    socket.pipe(socket);
  });

/** Connects to a loopback port; rejects on error. */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true, noDelay: true });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Reads until `bytes` bytes arrived (or the stream ended), resolving with what was read. */
export function readBytes(socket: net.Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      socket.off("data", onData);
      socket.off("end", done);
      socket.off("close", done);
      socket.off("error", onError);
      resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= bytes) done();
    };
    const onError = (err: Error): void => {
      socket.off("data", onData);
      reject(err);
    };
    socket.on("data", onData);
    socket.once("end", done);
    socket.once("close", done);
    socket.once("error", onError);
  });
}

/** How a socket's life ended: "end" (FIN), "reset" (RST), or "error:<code>". */
export function outcome(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once("error", (err: NodeJS.ErrnoException) =>
      resolve(err.code === "ECONNRESET" ? "reset" : `error:${err.code}`),
    );
    socket.once("end", () => resolve("end"));
    socket.resume();
  });
}

/** Writes `payload` and measures how long until as many bytes came back. */
export async function echoRoundTrip(
  socket: net.Socket,
  payload: Buffer,
): Promise<{ ms: number; data: Buffer }> {
  const start = performance.now();
  const reading = readBytes(socket, payload.length);
  socket.write(payload);
  const data = await reading;
  return { ms: performance.now() - start, data };
}

/**
 * The quickest of `count` one-byte round trips, in ms. A latency toxic of L ms holds back every round trip by
 * at least L, so the quickest of a few below L proves there is none, however busy the machine: one slow
 * round trip (a scheduling stall) cannot fail a test that judges by the quickest.
 */
export async function quickestRoundTrip(socket: net.Socket, count = 3): Promise<number> {
  let quickest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < count; i++)
    quickest = Math.min(quickest, (await echoRoundTrip(socket, Buffer.from("q"))).ms);
  return quickest;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with the exact bytes of the answer (fetch would hide some headers). */
export function request(
  url: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      { method, headers: { "user-agent": "chaoskit-test", ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Proxy `t` of a server under test: creates it, changes its toxics and opens clients through it;
 * `cleanup` closes those clients and deletes the proxy. The server is looked up late (set in beforeAll).
 */
export class ProxyUnderTest {
  private readonly sockets: net.Socket[] = [];

  constructor(private readonly url: () => string) {}

  /** Creates proxy `t` to `upstream` on a free loopback port and returns that port. */
  proxyTo = async (upstream: string): Promise<number> => {
    const body = JSON.stringify({ name: "t", listen: "127.0.0.1:0", upstream });
    const res = await request(this.url(), "POST", "/proxies", body);
    if (res.status !== 201) throw new Error(`creating proxy t answered ${res.status}: ${res.body}`);
    const { listen } = JSON.parse(res.body) as { listen: string };
    return Number(listen.slice(listen.lastIndexOf(":") + 1));
  };

  /** Adds a toxic, or updates toxic `name` when given. Throws unless the answer is 200. */
  addToxic = async (toxic: Record<string, unknown>, name?: string): Promise<void> => {
    const path = name ? `/proxies/t/toxics/${name}` : "/proxies/t/toxics";
    const res = await request(this.url(), "POST", path, JSON.stringify(toxic));
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${res.body}`);
  };

  client = async (port: number): Promise<net.Socket> => {
    const socket = await connect(port);
    this.sockets.push(socket);
    return socket;
  };

  cleanup = async (): Promise<void> => {
    for (const s of this.sockets.splice(0)) s.destroy();
    await request(this.url(), "DELETE", "/proxies/t");
  };
}

/**
 * For a test file: an embedded server and an echo upstream started before its tests and closed after
 * them, and proxy `t` of that server cleaned up after each test.
 */
export function embeddedServerWithEcho(): {
  server: () => ToxiproxyServer;
  echo: () => TcpServer;
  harness: ProxyUnderTest;
} {
  let server: ToxiproxyServer | undefined;
  let echo: TcpServer | undefined;
  const harness = new ProxyUnderTest(() => server!.url);
  beforeAll(async () => {
    server = await startToxiproxyServer({ port: 0 });
    echo = await echoServer();
  });
  afterAll(async () => {
    await server?.close();
    await echo?.close();
  });
  afterEach(harness.cleanup);
  return { server: () => server!, echo: () => echo!, harness };
}

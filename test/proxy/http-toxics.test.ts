import http from "node:http";
import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { connect, outcome, ProxyUnderTest, request } from "./helpers.js";
import { WireReader } from "./http-wire.js";

/** What the upstream saw of each request, in order. */
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
let upstream: http.Server;
let upstreamAddress = "";
let server: ToxiproxyServer;
const harness = new ProxyUnderTest(() => server.url);
const sockets: net.Socket[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === "/chunked") {
        res.setHeader("x-upstream", "yes");
        res.write("part one, ");
        res.end("part two");
        return;
      }
      res.setHeader("x-upstream", "yes");
      res.end(JSON.stringify({ url: req.url, body }));
    });
  });
  upstream.keepAliveTimeout = 60_000;
  upstream.on("upgrade", (req, socket: net.Socket, head: Buffer) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: "" });
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamAddress = `127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
  server = await startToxiproxyServer({ port: 0 });
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await server.close();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  seen.length = 0;
  await harness.cleanup();
});

/** Proxy t to the HTTP upstream with the toxics given (added in order), and a raw client through it. */
async function through(
  ...toxics: Record<string, unknown>[]
): Promise<{ port: number; socket: net.Socket; wire: WireReader }> {
  const port = await harness.proxyTo(upstreamAddress);
  for (const toxic of toxics) await harness.addToxic(toxic);
  const socket = await connect(port);
  sockets.push(socket);
  return { port, socket, wire: new WireReader(socket) };
}

const post = (path: string, body: string, extra = ""): string =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const get = (path: string, extra = ""): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

const status503 = {
  type: "http_status",
  stream: "upstream",
  attributes: { status: 503, body: "payments unavailable", match: { method: "POST", path: "/charge" } },
};

describe("http_status", () => {
  it("answers a matching request itself and lets the others reach the upstream", async () => {
    const { socket, wire } = await through(status503);
    socket.write(post("/charge", '{"amount":1}'));
    const faulted = await wire.next();
    expect(faulted).toMatchObject({ status: 503, body: "payments unavailable" });
    socket.write(post("/refund", "r"));
    expect(await wire.next()).toMatchObject({ status: 200, headers: { "x-upstream": "yes" } });
    expect(seen.map((s) => s.url)).toEqual(["/refund"]);
  });

  it("applies to a keep-alive connection opened before it, from that connection's next request", async () => {
    const { socket, wire } = await through();
    socket.write(post("/charge", "before"));
    expect(JSON.parse((await wire.next())!.body)).toEqual({ url: "/charge", body: "before" });
    await harness.addToxic(status503);
    socket.write(post("/charge", "after"));
    expect(await wire.next()).toMatchObject({ status: 503, body: "payments unavailable" });
    socket.write(post("/refund", "r"));
    expect(JSON.parse((await wire.next())!.body)).toEqual({ url: "/refund", body: "r" });
    expect(seen.map((s) => s.body)).toEqual(["before", "r"]);
    expect(wire.closed).toBe(false);
  });

  it("lets a request already in flight when it is added reach the upstream whole; faults the next", async () => {
    const { socket, wire } = await through();
    socket.write(post("/charge", "0123456789").slice(0, -5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await harness.addToxic(status503);
    socket.write("56789");
    expect(JSON.parse((await wire.next())!.body)).toEqual({ url: "/charge", body: "0123456789" });
    socket.write(post("/charge", "next"));
    expect((await wire.next())?.status).toBe(503);
    expect(seen.map((s) => s.body)).toEqual(["0123456789"]);
  });

  it("applies to a connection opened before it that has not sent anything yet", async () => {
    const { socket, wire } = await through();
    await harness.addToxic(status503);
    socket.write(post("/charge", "first"));
    expect((await wire.next())?.status).toBe(503);
    expect(seen).toEqual([]);
  });

  it("leaves the next request on a keep-alive connection intact after a faulted one with a body", async () => {
    const { socket, wire } = await through(status503);
    socket.write(post("/charge", "x".repeat(5000)));
    expect((await wire.next())?.status).toBe(503);
    socket.write(post("/charge-other", "next body"));
    const next = await wire.next();
    expect(JSON.parse(next!.body)).toEqual({ url: "/charge-other", body: "next body" });
    expect(wire.closed).toBe(false);
  });

  it("keeps the order of pipelined requests, answers made by the proxy in their place", async () => {
    const { socket, wire } = await through(status503);
    socket.write(post("/a", "1") + post("/charge", "2") + get("/c") + post("/charge", "4") + post("/e", "5"));
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await wire.next());
    expect(got.map((r) => (r!.status === 503 ? "503" : JSON.parse(r!.body).url))).toEqual([
      "/a",
      "503",
      "/c",
      "503",
      "/e",
    ]);
    expect(seen.map((s) => s.url)).toEqual(["/a", "/c", "/e"]);
  });

  it("drops a chunked request body it answered and reads the next request after it", async () => {
    const { socket, wire } = await through(status503);
    socket.write(
      "POST /charge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n",
    );
    socket.write("6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    expect((await wire.next())?.status).toBe(503);
    socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    expect(JSON.parse((await wire.next())!.body)).toEqual({ url: "/echo", body: "abc" });
  });

  it("replaces the upstream's answer downstream: the request reaches it, the client gets the toxic's", async () => {
    const { socket, wire } = await through({
      type: "http_status",
      stream: "downstream",
      attributes: { status: 502, headers: { "retry-after": "1" }, match: { path: "/chunked" } },
    });
    socket.write(get("/chunked") + get("/plain"));
    expect(await wire.next()).toMatchObject({ status: 502, body: "", headers: { "retry-after": "1" } });
    expect(JSON.parse((await wire.next())!.body).url).toBe("/plain");
    expect(seen.map((s) => s.url)).toEqual(["/chunked", "/plain"]);
  });

  it("closes the connection after answering HTTP/1.0 without keep-alive, keeps it open with keep-alive", async () => {
    const { socket, wire } = await through(status503);
    socket.write("POST /charge HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx");
    expect(await wire.next()).toMatchObject({ status: 503, headers: { connection: "keep-alive" } });
    socket.write("POST /charge HTTP/1.0\r\nContent-Length: 1\r\n\r\nx");
    expect(await wire.next()).toMatchObject({ status: 503, headers: { connection: "close" } });
    await wire.closedNow();
  });

  it("answers a request that waits for 100-continue and closes, so its body can never be read as a request", async () => {
    const { socket, wire } = await through(status503);
    socket.write(
      post("/charge", "", "Expect: 100-continue\r\n").replace("Content-Length: 0", "Content-Length: 4"),
    );
    expect(await wire.next()).toMatchObject({ status: 503, headers: { connection: "close" } });
    socket.write("GET / HTTP/1.1\r\n\r\n");
    await wire.closedNow();
    expect(seen).toEqual([]);
  });

  it("answers Connection: close with Connection: close and ends the connection", async () => {
    const { socket, wire } = await through(status503);
    socket.write(post("/charge", "1", "Connection: close\r\n"));
    expect(await wire.next()).toMatchObject({ status: 503, headers: { connection: "close" } });
    await wire.closedNow();
  });
});

describe("the other HTTP toxics", () => {
  it("http_delay holds a matching request and leaves the others alone", async () => {
    const { socket, wire } = await through({
      type: "http_delay",
      stream: "upstream",
      attributes: { latency: 300, match: { path_prefix: "/slow" } },
    });
    const timed = async (path: string): Promise<number> => {
      const start = performance.now();
      socket.write(get(path));
      await wire.next();
      return performance.now() - start;
    };
    // The baseline: the quickest of three unmatched requests on the same connection, in this test.
    const baseline = Math.min(await timed("/fast"), await timed("/fast"), await timed("/fast"));
    const held = await timed("/slow/x");
    expect(held).toBeGreaterThanOrEqual(290);
    expect(held - baseline, `held ${held} ms, baseline ${baseline} ms`).toBeGreaterThanOrEqual(150);
  });

  it("matches the path exactly (without the query), by prefix on segment boundaries, or as a glob", async () => {
    const answer = (status: number, match: Record<string, unknown>) => ({
      name: `status_${status}`,
      type: "http_status",
      stream: "upstream",
      attributes: { status, match },
    });
    const { socket, wire } = await through(
      answer(501, { path: "/charge" }),
      answer(502, { path_prefix: "/api" }),
      answer(503, { path: "/users/*/orders" }),
      answer(504, { path: "/files/**" }),
    );
    const statusOf = async (path: string): Promise<number | string> => {
      socket.write(get(path));
      const res = (await wire.next())!;
      return res.status === 200 ? JSON.parse(res.body).url : res.status;
    };
    const got: Record<string, number | string> = {};
    for (const path of [
      "/charge?id=1",
      "/charge/x",
      "/api",
      "/api/v1/x",
      "/apix",
      "/users/7/orders",
      "/users/7/x/orders",
      "/files/a/b/c",
      "/files",
    ])
      got[path] = await statusOf(path);
    expect(got).toEqual({
      "/charge?id=1": 501,
      "/charge/x": "/charge/x",
      "/api": 502,
      "/api/v1/x": 502,
      "/apix": "/apix",
      "/users/7/orders": 503,
      "/users/7/x/orders": "/users/7/x/orders",
      "/files/a/b/c": 504,
      "/files": "/files",
    });
  });

  it("http_delay downstream holds the response of a matching request", async () => {
    const { socket, wire } = await through({
      type: "http_delay",
      attributes: { latency: 300, match: { path: "/users/*/orders" } },
    });
    const start = performance.now();
    socket.write(get("/users/7/orders"));
    await wire.next();
    expect(performance.now() - start).toBeGreaterThanOrEqual(290);
    expect(seen).toHaveLength(1);
  });

  it("http_abort upstream resets the connection when a matching request arrives; the upstream never sees it", async () => {
    const { socket } = await through({
      type: "http_abort",
      stream: "upstream",
      attributes: { reset: true, match: { method: "DELETE" } },
    });
    const ended = outcome(socket);
    socket.write("DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await ended).toBe("reset");
    expect(seen).toEqual([]);
  });

  it("http_abort downstream closes the connection mid-response, after the bytes it lets through", async () => {
    const { socket } = await through({ type: "http_abort", attributes: { after: 20 } });
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    const ended = outcome(socket);
    socket.write(get("/x"));
    expect(await ended).toBe("end");
    expect(Buffer.concat(chunks).toString()).toBe("HTTP/1.1 200 OK\r\nx-u");
  });

  it("http_abort with more bytes to let through than the response has closes right after the response", async () => {
    const { socket, wire } = await through({ type: "http_abort", attributes: { after: 100_000 } });
    socket.write(get("/x") + get("/y"));
    expect(JSON.parse((await wire.next())!.body).url).toBe("/x");
    await wire.closedNow();
    expect(await wire.next()).toBeNull();
  });

  it("http_header sets, adds and removes request and response headers", async () => {
    const { socket, wire } = await through(
      {
        type: "http_header",
        stream: "upstream",
        attributes: { set: { "x-tenant": "red" }, add: { "x-extra": "1" }, remove: ["user-agent"] },
      },
      { type: "http_header", attributes: { set: { "x-upstream": "rewritten" }, remove: ["date"] } },
    );
    socket.write(get("/", "User-Agent: u\r\nX-Tenant: blue\r\n"));
    const res = await wire.next();
    expect(res?.headers["x-upstream"]).toBe("rewritten");
    expect(res?.headers.date).toBeUndefined();
    expect(seen[0]?.headers).toMatchObject({ "x-tenant": "red", "x-extra": "1" });
    expect(seen[0]?.headers["user-agent"]).toBeUndefined();
  });

  it("http_body replaces a chunked response body with a correct Content-Length; the next response is intact", async () => {
    const { socket, wire } = await through({
      type: "http_body",
      attributes: { body: "replaced", match: { path: "/chunked" } },
    });
    socket.write(get("/chunked") + get("/after"));
    const replaced = await wire.next();
    expect(replaced).toMatchObject({ status: 200, body: "replaced", headers: { "content-length": "8" } });
    expect(replaced?.headers["transfer-encoding"]).toBeUndefined();
    expect(JSON.parse((await wire.next())!.body).url).toBe("/after");
  });

  it("composes in order: a header toxic after a status toxic changes the proxy's answer", async () => {
    const { socket, wire } = await through(status503, {
      type: "http_header",
      stream: "upstream",
      attributes: { set: { "retry-after": "2" } },
    });
    socket.write(post("/charge", "1"));
    expect(await wire.next()).toMatchObject({ status: 503, headers: { "retry-after": "2" } });
  });

  it("matches on headers, and forwards a request whose header does not match", async () => {
    const { socket, wire } = await through({
      type: "http_status",
      stream: "upstream",
      attributes: { status: 429, match: { headers: { "x-tenant": "blue*" } } },
    });
    socket.write(get("/", "X-Tenant: blue-7\r\n"));
    expect((await wire.next())?.status).toBe(429);
    socket.write(get("/", "X-Tenant: red\r\n"));
    expect((await wire.next())?.status).toBe(200);
  });
});

describe("protocol behaviour through an HTTP-aware proxy", () => {
  const idle = { type: "http_status", stream: "upstream", attributes: { match: { path: "/never" } } };

  it("hands on a response that arrived in one piece in one write, head and body together", async () => {
    const { socket, wire } = await through(idle);
    // The proxy runs in this process: count its writes to this client's socket.
    const write = net.Socket.prototype.write;
    let writes = 0;
    net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
      if (this.remotePort === socket.localPort && this.localPort !== socket.localPort) writes++;
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof write;
    try {
      for (const path of ["/a", "/b", "/c"]) {
        socket.write(get(path));
        expect(await wire.next()).toMatchObject({
          status: 200,
          body: JSON.stringify({ url: path, body: "" }),
        });
      }
    } finally {
      net.Socket.prototype.write = write;
    }
    expect(writes).toBe(3);
  });

  it("streams a chunked request and a chunked response through unchanged", async () => {
    const { socket, wire } = await through(idle);
    socket.write(
      "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
    );
    const res = await wire.next();
    expect(res).toMatchObject({ body: "part one, part two", headers: { "transfer-encoding": "chunked" } });
    expect(seen[0]?.body).toBe("abcd");
  });

  it("forwards Expect: 100-continue and the body the client sends after it", async () => {
    const port = await harness.proxyTo(upstreamAddress);
    await harness.addToxic(idle);
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/continue",
          headers: { expect: "100-continue", "content-length": 3 },
        },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c));
          res.on("end", () => resolve(text));
        },
      );
      req.on("continue", () => req.end("abc"));
      req.on("error", reject);
    });
    expect(JSON.parse(answer)).toEqual({ url: "/continue", body: "abc" });
  });

  it("streams large bodies without holding them: the upstream reads the start before the client sent the end", async () => {
    const port = await harness.proxyTo(upstreamAddress);
    await harness.addToxic(idle);
    const part = Buffer.alloc(4 << 20, 0x61);
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/big",
          headers: { "content-length": part.length * 2 },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(seen[0]?.body.length ?? 0));
        },
      );
      req.on("error", reject);
      // The second half goes only once the upstream already got half of the first: a proxy that held
      // the body until its end would never let this happen.
      upstreamReads(part.length / 2).then(() => req.end(part), reject);
      req.write(part);
    });
    expect(received).toBe(part.length * 2);
  });

  it("passes an upgraded (WebSocket) connection through byte for byte, requests inside it included", async () => {
    // A toxic that would answer the request inside the WebSocket stream, were it read as HTTP.
    const { socket, wire } = await through({
      type: "http_status",
      stream: "upstream",
      attributes: { status: 503, match: { method: "GET", headers: { "x-fault": "1" } } },
    });
    socket.write("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    expect((await wire.next(true))?.status).toBe(101);
    const frames = Buffer.concat([
      Buffer.from([0x81, 0x85, 0, 0, 0, 0]),
      Buffer.from("GET / HTTP/1.1\r\nX-Fault: 1\r\n\r\n"),
    ]);
    socket.write(frames);
    await until(() => wire.rest.length >= frames.length);
    expect(wire.rest.equals(frames)).toBe(true);
  });

  it("passes what is not HTTP/1.x through byte for byte (a TLS hello, an HTTP/2 preface)", async () => {
    const echo = await import("./helpers.js").then((h) => h.echoServer());
    try {
      const port = await harness.proxyTo(echo.address);
      await harness.addToxic(idle);
      for (const payload of [
        Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]),
        Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04"),
      ]) {
        const socket = await connect(port);
        sockets.push(socket);
        const got: Buffer[] = [];
        socket.on("data", (c: Buffer) => got.push(c));
        socket.write(payload);
        await until(() => Buffer.concat(got).length >= payload.length);
        expect(Buffer.concat(got).equals(payload)).toBe(true);
      }
    } finally {
      await echo.close();
    }
  });

  it("survives malformed requests and keeps serving new connections", async () => {
    const { port } = await through(status503);
    for (const bad of [
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST /charge HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST /charge HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "POST /charge HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n",
      "\x00\x01\x02 / HTTP/1.1\r\n\r\n",
      `GET /${"a".repeat(70_000)} HTTP/1.1\r\n\r\n`,
    ]) {
      const socket = await connect(port);
      sockets.push(socket);
      const ended = outcome(socket);
      socket.end(bad);
      await ended;
    }
    const socket = await connect(port);
    sockets.push(socket);
    const reader = new WireReader(socket);
    socket.write(post("/charge", "1"));
    expect((await reader.next())?.status).toBe(503);
  });
});

describe("HTTP toxics through the API", () => {
  it("lists them with their attributes and removes them", async () => {
    await through(status503);
    const list = JSON.parse((await request(server.url, "GET", "/proxies/t/toxics")).body);
    expect(list).toEqual([
      {
        name: "http_status_upstream",
        type: "http_status",
        stream: "upstream",
        toxicity: 1,
        attributes: {
          status: 503,
          headers: {},
          body: "payments unavailable",
          match: { method: ["POST"], path: "/charge", path_prefix: "", headers: {} },
        },
      },
    ]);
    expect((await request(server.url, "DELETE", "/proxies/t/toxics/http_status_upstream")).status).toBe(204);
  });

  it("refuses attributes it cannot act on with a 400 that says which", async () => {
    await harness.proxyTo(upstreamAddress);
    const cases: [Record<string, unknown>, string][] = [
      [{ type: "http_status", attributes: { status: 99 } }, "status must be between 200 and 599"],
      [
        { type: "http_header", attributes: { set: { "content-length": "1" } } },
        "content-length frames the message",
      ],
      [{ type: "http_delay", attributes: { latency: -1 } }, "cannot be negative"],
      [
        { type: "http_status", attributes: { match: { path: "charge" } } },
        'match.path must be a path starting with "/"',
      ],
      [{ type: "http_abort", attributes: { reset: "yes" } }, "reset must be true or false"],
    ];
    for (const [toxic, message] of cases) {
      const res = await request(server.url, "POST", "/proxies/t/toxics", JSON.stringify(toxic));
      expect(res.status, JSON.stringify(toxic)).toBe(400);
      expect(JSON.parse(res.body).error).toContain(message);
    }
  });

  it("draws toxicity per request, not per connection", async () => {
    const { socket, wire } = await through({ ...status503, toxicity: 0.5 });
    const statuses = new Set<number>();
    for (let i = 0; i < 40; i++) {
      socket.write(post("/charge", "1"));
      statuses.add((await wire.next())!.status);
    }
    expect([...statuses].sort()).toEqual([200, 503]);
  });
});

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once the upstream's current request has received at least `bytes` body bytes. */
function upstreamReads(bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the upstream did not get ${bytes} bytes in time`)),
      10_000,
    );
    const onRequest = (req: http.IncomingMessage): void => {
      let got = 0;
      req.on("data", (c: Buffer) => {
        got += c.length;
        if (got >= bytes) {
          clearTimeout(timer);
          upstream.off("request", onRequest);
          resolve();
        }
      });
    };
    upstream.on("request", onRequest);
  });
}

import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { connect, echoRoundTrip, echoServer, request, type TcpServer, tcpServer } from "./helpers.js";

// Each test asserts what a real Toxiproxy 2.12.0 answered to the same request (see TOXIPROXY-API.md).

let server: ToxiproxyServer;
let upstream: TcpServer;
const sockets: net.Socket[] = [];
const blockers: TcpServer[] = [];

beforeAll(async () => {
  server = await startToxiproxyServer({ port: 0, metrics: true });
  upstream = await echoServer();
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const b of blockers.splice(0)) await b.close();
  const all = JSON.parse((await request(server.url, "GET", "/proxies")).body) as Record<string, unknown>;
  for (const name of Object.keys(all)) await request(server.url, "DELETE", `/proxies/${name}`);
});

const call = (method: string, path: string, body?: unknown) =>
  request(server.url, method, path, typeof body === "string" ? body : JSON.stringify(body));

interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: { name: string }[];
}

const create = async (name = "t"): Promise<ProxyJson> => {
  const res = await call("POST", "/proxies", { name, listen: "127.0.0.1:0", upstream: upstream.address });
  expect(res.status).toBe(201);
  return JSON.parse(res.body) as ProxyJson;
};
const show = async (name = "t"): Promise<ProxyJson> =>
  JSON.parse((await call("GET", `/proxies/${name}`)).body) as ProxyJson;
const portOf = (listen: string): number => Number(listen.slice(listen.lastIndexOf(":") + 1));

async function client(port: number): Promise<net.Socket> {
  const socket = await connect(port);
  sockets.push(socket);
  return socket;
}

/** A port some other listener holds. */
async function takenPort(): Promise<number> {
  const blocker = await tcpServer(() => undefined);
  blockers.push(blocker);
  return blocker.port;
}

describe("changing a proxy's listen address", () => {
  it.each(["127.0.0.1:99999", "nohostport", "taken"])(
    "to an unusable one (%s) answers 500 and leaves the proxy running unchanged, connections included",
    async (bad) => {
      const before = await create();
      const live = await client(portOf(before.listen));
      const listen = bad === "taken" ? `127.0.0.1:${await takenPort()}` : bad;
      const res = await call("POST", "/proxies/t", { listen });
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body.trim())).toMatchObject({ status: 500 });
      expect(await show()).toEqual(before);
      expect((await echoRoundTrip(live, Buffer.from("still here"))).data.toString()).toBe("still here");
      expect((await call("POST", "/reset")).status).toBe(204);
    },
  );

  it("of a disabled proxy to a malformed one answers 500 and keeps the old address", async () => {
    const { listen } = await create();
    await call("POST", "/proxies/t", { enabled: false });
    const res = await call("POST", "/proxies/t", { listen: "127.0.0.1:99999" });
    expect(res.status).toBe(500);
    expect(res.body).toBe('{"error":"listen tcp: address 99999: invalid port","status":500}\n');
    expect(await show()).toMatchObject({ listen, enabled: false });
  });

  it("to the same address written differently keeps the listener and its live connections", async () => {
    const { listen } = await create();
    const live = await client(portOf(listen));
    const res = await call("PATCH", "/proxies/t", { listen: `localhost:${portOf(listen)}` });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ listen, enabled: true });
    expect((await echoRoundTrip(live, Buffer.from("kept"))).data.toString()).toBe("kept");
  });

  it("to a new free address moves the listener there", async () => {
    const { listen } = await create();
    const res = await call("PATCH", "/proxies/t", { listen: "127.0.0.1:0" });
    expect(res.status).toBe(200);
    const moved = (JSON.parse(res.body) as ProxyJson).listen;
    expect(moved).not.toBe(listen);
    await expect(connect(portOf(listen))).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const socket = await client(portOf(moved));
    expect((await echoRoundTrip(socket, Buffer.from("moved"))).data.toString()).toBe("moved");
  });
});

describe("POST /reset", () => {
  it("resets every proxy even when one cannot listen again, then answers 500", async () => {
    const a = await create("a");
    await create("b");
    await create("c");
    for (const name of ["a", "b", "c"]) {
      await call("POST", `/proxies/${name}/toxics`, { type: "latency" });
      await call("POST", `/proxies/${name}`, { enabled: false });
    }
    // Another process takes a's port while a is disabled.
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(portOf(a.listen), "127.0.0.1", resolve));
    try {
      const res = await call("POST", "/reset");
      expect(res.status).toBe(500);
      expect(res.body).toContain("address already in use");
      expect(await show("a")).toMatchObject({ enabled: false, toxics: [] });
      expect(await show("b")).toMatchObject({ enabled: true, toxics: [] });
      expect(await show("c")).toMatchObject({ enabled: true, toxics: [] });
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});

describe("the admin API under slow clients", () => {
  it("answers other clients while one leaves its request body unfinished, and times that one out", async () => {
    const own = await startToxiproxyServer({ port: 0, requestTimeoutMs: 1000 });
    try {
      const slow = await client(own.port);
      let answer = "";
      slow.on("data", (d: Buffer) => {
        answer += d.toString();
      });
      const closed = new Promise<void>((resolve) => slow.once("end", () => resolve()));
      slow.write("POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n");
      slow.write('Content-Length: 100\r\n\r\n{"name":');
      await new Promise((r) => setTimeout(r, 100));
      const start = performance.now();
      const version = await request(own.url, "GET", "/version");
      expect(version.status).toBe(200);
      expect(performance.now() - start).toBeLessThan(500);
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect((await request(own.url, "GET", "/proxies")).body).toBe("{}");
    } finally {
      await own.close();
    }
  });
});

describe("toxic attributes", () => {
  it.each([
    ["1.0", "1.0"],
    ["1e3", "1e3"],
    ["9007199254740993", "9007199254740993"],
  ])(
    "refuses %s for a whole-number attribute with 400, as Go's int decoding does",
    async (literal, shown) => {
      await create();
      const res = await call(
        "POST",
        "/proxies/t/toxics",
        `{"type":"latency","attributes":{"latency":${literal}}}`,
      );
      expect(res.status).toBe(400);
      expect(res.body).toContain(
        `json: cannot unmarshal number ${shown} into Go struct field LatencyToxic.attributes.latency of type int64`,
      );
      expect((await show()).toxics).toEqual([]);
    },
  );

  it.each([
    [{ type: "bandwidth", attributes: { rate: -1 } }, "rate must be 0 or more"],
    [{ type: "slicer", attributes: { average_size: 0 } }, "average_size must be greater than 0"],
    [{ type: "slicer", attributes: { average_size: 10, size_variation: 11 } }, "must not be greater"],
    [{ type: "slicer", attributes: { average_size: 10, size_variation: -1 } }, "size_variation must be 0"],
  ])("refuses nonsense %j with 400 and a message, on create and on update", async (toxic, message) => {
    await create();
    const created = await call("POST", "/proxies/t/toxics", toxic);
    expect(created.status).toBe(400);
    expect(JSON.parse(created.body.trim()).error).toContain(message);
    const valid = { type: toxic.type, name: "ok", attributes: { rate: 1, average_size: 10 } };
    expect((await call("POST", "/proxies/t/toxics", valid)).status).toBe(200);
    const updated = await call("POST", "/proxies/t/toxics/ok", { attributes: toxic.attributes });
    expect(updated.status).toBe(400);
    expect(JSON.parse(updated.body.trim()).error).toContain(message);
  });

  it("accepts only upstream and downstream as the stream (in any case), keeping the spelling", async () => {
    await create();
    for (const stream of ["up", "down", "dn"]) {
      const res = await call("POST", "/proxies/t/toxics", { type: "latency", stream });
      expect(res.status).toBe(400);
      expect(res.body).toBe(
        '{"error":"stream was invalid, can be either upstream or downstream","status":400}\n',
      );
    }
    const res = await call("POST", "/proxies/t/toxics", { type: "latency", stream: "UpStream" });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ name: "latency_UpStream", stream: "UpStream" });
  });

  it("knows the noop toxic: no attributes, data untouched", async () => {
    const { listen } = await create();
    const res = await call("POST", "/proxies/t/toxics", { type: "noop" });
    expect(res.status).toBe(200);
    expect(res.body).toBe(
      '{"attributes":{},"name":"noop_downstream","type":"noop","stream":"downstream","toxicity":1}',
    );
    const socket = await client(portOf(listen));
    expect((await echoRoundTrip(socket, Buffer.from("untouched"))).data.toString()).toBe("untouched");
  });
});

describe("creating and populating proxies", () => {
  it("binds a random port when POST /proxies has no listen", async () => {
    const res = await call("POST", "/proxies", { name: "t", upstream: upstream.address });
    expect(res.status).toBe(201);
    const { listen } = JSON.parse(res.body) as ProxyJson;
    expect(listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(portOf(listen)).toBeGreaterThan(0);
    const socket = await client(portOf(listen));
    expect((await echoRoundTrip(socket, Buffer.from("random"))).data.toString()).toBe("random");
  });

  it("accepts a name twice in one /populate", async () => {
    const spec = { name: "twice", listen: "127.0.0.1:0", upstream: upstream.address };
    const res = await call("POST", "/populate", [spec, spec]);
    expect(res.status).toBe(201);
    const { proxies } = JSON.parse(res.body) as { proxies: ProxyJson[] };
    expect(proxies.map((p) => p.name)).toEqual(["twice", "twice"]);
    expect(Object.keys(JSON.parse((await call("GET", "/proxies")).body) as object)).toEqual(["twice"]);
  });

  it("keeps a proxy and its toxics when /populate names its address as localhost (TestPopulateExistingProxy)", async () => {
    const created = await create();
    await call("POST", "/proxies/t/toxics", { type: "latency", name: "slow", attributes: { latency: 5 } });
    const res = await call("POST", "/populate", [
      { name: "t", listen: `localhost:${portOf(created.listen)}`, upstream: upstream.address },
    ]);
    expect(res.status).toBe(201);
    const kept = await show();
    expect(kept.listen).toBe(created.listen);
    expect(kept.toxics.map((t) => t.name)).toEqual(["slow"]);
  });

  it("keeps a proxy created as localhost when /populate names it 127.0.0.1, replaces one whose port moved", async () => {
    const free = async (): Promise<number> => {
      const taken = await create("probe");
      await call("DELETE", "/proxies/probe");
      return portOf(taken.listen);
    };
    const [one, two] = [await free(), await free()];
    const add = async (name: string, port: number) =>
      expect(
        (await call("POST", "/proxies", { name, listen: `localhost:${port}`, upstream: upstream.address }))
          .status,
      ).toBe(201);
    await add("one", one);
    await add("two", two);
    await call("POST", "/proxies/one/toxics", { type: "latency", name: "kept", attributes: { latency: 1 } });
    await call("POST", "/proxies/two/toxics", {
      type: "latency",
      name: "dropped",
      attributes: { latency: 1 },
    });
    const moved = await free();
    const res = await call("POST", "/populate", [
      { name: "one", listen: `127.0.0.1:${one}`, upstream: upstream.address },
      { name: "two", listen: `127.0.0.1:${moved}`, upstream: upstream.address },
    ]);
    expect(res.status).toBe(201);
    const [kept, replaced] = [await show("one"), await show("two")];
    expect([kept.listen, kept.toxics.map((t) => t.name)]).toEqual([`127.0.0.1:${one}`, ["kept"]]);
    expect([replaced.listen, replaced.toxics]).toEqual([`127.0.0.1:${moved}`, []]);
    await call("DELETE", "/proxies/one");
    await call("DELETE", "/proxies/two");
  });

  it("names the resolved address when localhost cannot be bound (TestCreateProxyPortConflict)", async () => {
    const port = await takenPort();
    const res = await call("POST", "/proxies", {
      name: "clash",
      listen: `localhost:${port}`,
      upstream: upstream.address,
    });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body).error).toBe(`listen tcp 127.0.0.1:${port}: bind: address already in use`);
  });

  it("answers a /populate entry that cannot listen with its error and the proxies created before it", async () => {
    const taken = `127.0.0.1:${await takenPort()}`;
    const res = await call("POST", "/populate", [
      { name: "first", listen: "127.0.0.1:0", upstream: upstream.address },
      { name: "second", listen: taken, upstream: upstream.address },
      { name: "third", listen: "127.0.0.1:0", upstream: upstream.address },
    ]);
    expect(res.status).toBe(500);
    const body = JSON.parse(res.body) as { error: string; status: number; proxies: ProxyJson[] };
    expect(Object.keys(body)).toEqual(["error", "status", "proxies"]);
    expect(body.error).toBe(`listen tcp ${taken}: bind: address already in use`);
    expect(body.proxies.map((p) => p.name)).toEqual(["first"]);
    expect(Object.keys(JSON.parse((await call("GET", "/proxies")).body) as object)).toEqual(["first"]);
  });
});

describe("request limits and methods", () => {
  it("accepts a header past Node's default and a body up to the 1 MiB it reads, as 2.12 does", async () => {
    await create();
    const padding = "x".repeat(1000 << 10);
    const body = `{"type":"latency","name":"big","padding":"${padding}","attributes":{"latency":5}}`;
    const res = await request(server.url, "POST", "/proxies/t/toxics", body, {
      "x-large": "y".repeat(64 << 10),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ name: "big", attributes: { latency: 5 } });
  });

  it("serves /metrics to POST as well as GET", async () => {
    const get = await call("GET", "/metrics");
    const post = await call("POST", "/metrics");
    expect(get.status).toBe(200);
    expect(post.status).toBe(200);
    expect(post.headers["content-type"]).toBe(get.headers["content-type"]);
  });
});

describe("proxies configured at start", () => {
  it("that cannot listen are logged and skipped with lenientConfig (chaos proxy's default, as 2.12)", async () => {
    const taken = `127.0.0.1:${await takenPort()}`;
    const proxies = [
      { name: "ok", listen: "127.0.0.1:0", upstream: upstream.address },
      { name: "clash", listen: taken, upstream: upstream.address },
    ];
    const lenient = await startToxiproxyServer({ port: 0, proxies, lenientConfig: true });
    try {
      const all = JSON.parse((await request(lenient.url, "GET", "/proxies")).body) as object;
      expect(Object.keys(all)).toEqual(["ok"]);
    } finally {
      await lenient.close();
    }
    await expect(startToxiproxyServer({ port: 0, proxies })).rejects.toMatchObject({
      code: "agent",
      message: `proxy clash could not start: listen tcp ${taken}: bind: address already in use`,
    });
  });
});

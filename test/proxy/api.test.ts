import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { connect, echoServer, request, type TcpServer } from "./helpers.js";

let server: ToxiproxyServer;
let upstream: TcpServer;

beforeAll(async () => {
  server = await startToxiproxyServer({ port: 0 });
  upstream = await echoServer();
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});
afterEach(async () => {
  const all = JSON.parse((await request(server.url, "GET", "/proxies")).body) as Record<string, unknown>;
  for (const name of Object.keys(all)) await request(server.url, "DELETE", `/proxies/${name}`);
});

const call = (method: string, path: string, body?: unknown) =>
  request(
    server.url,
    method,
    path,
    body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  );

const create = async (name = "t") => {
  const res = await call("POST", "/proxies", { name, listen: "127.0.0.1:0", upstream: upstream.address });
  expect(res.status).toBe(201);
  return JSON.parse(res.body) as { listen: string };
};

describe("the Toxiproxy HTTP API", () => {
  it("answers the version with Toxiproxy's exact bytes and content type", async () => {
    const res = await call("GET", "/version");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json;charset=utf-8");
    expect(res.body).toBe('{"version": "2.12.0"}\n');
  });

  it("puts an X-Toxiproxy-Request-Id header on every routed answer, errors included", async () => {
    const a = await call("GET", "/version");
    const b = await call("GET", "/proxies/missing");
    expect(a.headers["x-toxiproxy-request-id"]).toMatch(/^[0-9a-v]{20}$/);
    expect(b.headers["x-toxiproxy-request-id"]).toMatch(/^[0-9a-v]{20}$/);
    expect(a.headers["x-toxiproxy-request-id"]).not.toBe(b.headers["x-toxiproxy-request-id"]);
  });

  it("refuses browsers with 403 'User agent not allowed'", async () => {
    const res = await request(server.url, "GET", "/proxies", undefined, {
      "user-agent": "Mozilla/5.0 (X11)",
    });
    expect(res.status).toBe(403);
    expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(res.body).toBe("User agent not allowed\n");
  });

  it("creates a proxy with 201 and the fields in Toxiproxy's order", async () => {
    const listen = `127.0.0.1:${upstream.port + 1}`;
    const res = await call("POST", "/proxies", { name: "t", listen: "127.0.0.1:0", upstream: listen });
    expect(res.status).toBe(201);
    expect(res.headers["content-type"]).toBe("application/json");
    const port = (JSON.parse(res.body) as { listen: string }).listen.split(":")[1];
    expect(Number(port)).toBeGreaterThan(0);
    expect(res.body).toBe(
      `{"name":"t","listen":"127.0.0.1:${port}","upstream":"${listen}","enabled":true,"Logger":{},"toxics":[]}`,
    );
  });

  it("answers 409 with Go's http.Error shape when the proxy exists", async () => {
    await create();
    const res = await call("POST", "/proxies", {
      name: "t",
      listen: "127.0.0.1:0",
      upstream: upstream.address,
    });
    expect(res.status).toBe(409);
    expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(res.body).toBe('{"error":"proxy already exists","status":409}\n');
  });

  it("answers 400 for a body that is not JSON, in Go's words", async () => {
    const res = await call("POST", "/proxies", "garbage");
    expect(res.status).toBe(400);
    expect(res.body).toBe(
      '{"error":"bad request body: invalid character \'g\' looking for beginning of value","status":400}\n',
    );
  });

  it("answers 400 for a missing upstream or name", async () => {
    const noUpstream = await call("POST", "/proxies", { name: "q" });
    expect(noUpstream.status).toBe(400);
    expect(noUpstream.body).toBe('{"error":"missing required field: upstream","status":400}\n');
    const noName = await call("POST", "/proxies", { upstream: "127.0.0.1:1" });
    expect(noName.body).toBe('{"error":"missing required field: name","status":400}\n');
  });

  it("answers 400 for a field of the wrong type", async () => {
    const res = await call("POST", "/proxies", { name: "t", upstream: "127.0.0.1:1", enabled: "yes" });
    expect(res.status).toBe(400);
    expect(res.body).toContain("cannot unmarshal string into Go struct field Proxy.enabled of type bool");
  });

  it("answers 500 when the listen address is taken", async () => {
    const res = await call("POST", "/proxies", {
      name: "t",
      listen: upstream.address,
      upstream: "127.0.0.1:1",
    });
    expect(res.status).toBe(500);
    expect(res.body).toBe(
      `{"error":"listen tcp ${upstream.address}: bind: address already in use","status":500}\n`,
    );
  });

  it("lists proxies as a map by name, {} when empty", async () => {
    expect((await call("GET", "/proxies")).body).toBe("{}");
    await create("b");
    await create("a");
    const res = await call("GET", "/proxies");
    expect(res.status).toBe(200);
    const map = JSON.parse(res.body) as Record<string, { name: string; toxics: unknown[] }>;
    expect(Object.keys(map)).toEqual(["a", "b"]);
    expect(map.a?.toxics).toEqual([]);
  });

  it("shows one proxy, and 404 for a missing one", async () => {
    const created = await create();
    const res = await call("GET", "/proxies/t");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ...created, name: "t" });
    const missing = await call("GET", "/proxies/missing");
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('{"error":"proxy not found","status":404}\n');
  });

  it("disables a proxy with POST or PATCH, and new connections are then refused", async () => {
    const { listen } = await create();
    const port = Number(listen.split(":")[1]);
    const res = await call("POST", "/proxies/t", { enabled: false });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ name: "t", listen, enabled: false });
    await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const patched = await call("PATCH", "/proxies/t", { enabled: true });
    expect(JSON.parse(patched.body)).toMatchObject({ listen, enabled: true });
    (await connect(port)).destroy();
  });

  it("deletes a proxy with 204, and 404 the second time", async () => {
    await create();
    const first = await call("DELETE", "/proxies/t");
    expect(first.status).toBe(204);
    expect(first.body).toBe("");
    const second = await call("DELETE", "/proxies/t");
    expect(second.status).toBe(404);
    expect(second.body).toBe('{"error":"proxy not found","status":404}\n');
  });

  it("adds a toxic with 200 (not 201), defaults filled, fields in Toxiproxy's order", async () => {
    await create();
    const res = await call("POST", "/proxies/t/toxics", { type: "latency", attributes: { latency: 50 } });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.body).toBe(
      '{"attributes":{"latency":50,"jitter":0},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1}',
    );
  });

  it("fills every toxic type's default attributes when only the type is given", async () => {
    await create();
    const expected: Record<string, unknown> = {
      noop: {},
      latency: { latency: 0, jitter: 0 },
      bandwidth: { rate: 0 },
      slow_close: { delay: 0 },
      timeout: { timeout: 0 },
      reset_peer: { timeout: 0 },
      limit_data: { bytes: 0 },
    };
    for (const [type, attributes] of Object.entries(expected)) {
      const res = await call("POST", "/proxies/t/toxics", { type, stream: "upstream" });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({
        attributes,
        name: `${type}_upstream`,
        type,
        stream: "upstream",
        toxicity: 1,
      });
    }
  });

  it("answers 409 for a toxic name taken, 400 for a bad stream or type", async () => {
    await create();
    await call("POST", "/proxies/t/toxics", { type: "latency" });
    const dup = await call("POST", "/proxies/t/toxics", { type: "latency" });
    expect(dup.status).toBe(409);
    expect(dup.body).toBe('{"error":"toxic already exists","status":409}\n');
    const sideways = await call("POST", "/proxies/t/toxics", { type: "latency", stream: "sideways" });
    expect(sideways.status).toBe(400);
    expect(sideways.body).toBe(
      '{"error":"stream was invalid, can be either upstream or downstream","status":400}\n',
    );
    const unknown = await call("POST", "/proxies/t/toxics", { type: "earthquake" });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toBe('{"error":"invalid toxic type","status":400}\n');
  });

  it("rejects a fractional integer attribute as Go would", async () => {
    await create();
    const res = await call("POST", "/proxies/t/toxics", { type: "latency", attributes: { latency: 1.5 } });
    expect(res.status).toBe(400);
    expect(res.body).toContain("cannot unmarshal number 1.5");
  });

  it("lists, shows, updates (merging attributes) and deletes toxics", async () => {
    await create();
    await call("POST", "/proxies/t/toxics", {
      type: "latency",
      name: "lat",
      attributes: { latency: 10, jitter: 2 },
    });
    await call("POST", "/proxies/t/toxics", {
      type: "bandwidth",
      name: "bw",
      stream: "upstream",
      toxicity: 0.5,
    });
    const list = await call("GET", "/proxies/t/toxics");
    expect(list.status).toBe(200);
    // Upstream toxics come first, as Toxiproxy orders them.
    expect((JSON.parse(list.body) as { name: string }[]).map((t) => t.name)).toEqual(["bw", "lat"]);

    const shown = await call("GET", "/proxies/t/toxics/lat");
    expect(JSON.parse(shown.body)).toMatchObject({ name: "lat", attributes: { latency: 10, jitter: 2 } });

    const updated = await call("POST", "/proxies/t/toxics/lat", { attributes: { latency: 99 } });
    expect(updated.status).toBe(200);
    expect(updated.body).toBe(
      '{"attributes":{"latency":99,"jitter":2},"name":"lat","type":"latency","stream":"downstream","toxicity":1}',
    );
    const patched = await call("PATCH", "/proxies/t/toxics/bw", {
      attributes: { rate: 200 },
      toxicity: 0.25,
    });
    expect(JSON.parse(patched.body)).toMatchObject({ attributes: { rate: 200 }, toxicity: 0.25 });

    const proxy = JSON.parse((await call("GET", "/proxies/t")).body) as { toxics: unknown[] };
    expect(proxy.toxics).toHaveLength(2);

    const deleted = await call("DELETE", "/proxies/t/toxics/lat");
    expect(deleted.status).toBe(204);
    const again = await call("DELETE", "/proxies/t/toxics/lat");
    expect(again.status).toBe(404);
    expect(again.body).toBe('{"error":"toxic not found","status":404}\n');
    expect((await call("GET", "/proxies/t/toxics/lat")).status).toBe(404);
    expect((await call("POST", "/proxies/t/toxics/lat", { attributes: {} })).status).toBe(404);
    expect((await call("GET", "/proxies/missing/toxics")).status).toBe(404);
  });

  it("resets with 204: every proxy enabled again, every toxic removed", async () => {
    await create();
    await call("POST", "/proxies/t/toxics", { type: "latency" });
    await call("POST", "/proxies/t", { enabled: false });
    const res = await call("POST", "/reset");
    expect(res.status).toBe(204);
    const proxy = JSON.parse((await call("GET", "/proxies/t")).body) as {
      enabled: boolean;
      toxics: unknown[];
    };
    expect(proxy).toMatchObject({ enabled: true, toxics: [] });
  });

  it("populates with 201, keeps an identical proxy (toxics too) and recreates one whose addresses differ", async () => {
    const spec = [
      { name: "p1", listen: "127.0.0.1:0", upstream: upstream.address },
      { name: "p2", listen: "127.0.0.1:0", upstream: upstream.address },
    ];
    const first = await call("POST", "/populate", spec);
    expect(first.status).toBe(201);
    const proxies = (JSON.parse(first.body) as { proxies: { name: string; listen: string }[] }).proxies;
    expect(proxies.map((p) => p.name)).toEqual(["p1", "p2"]);
    await call("POST", "/proxies/p1/toxics", { type: "latency" });

    const again = await call("POST", "/populate", [
      { name: "p1", listen: proxies[0]!.listen, upstream: upstream.address },
      { name: "p2", listen: "127.0.0.1:0", upstream: "127.0.0.1:1" },
    ]);
    expect(again.status).toBe(201);
    const after = (
      JSON.parse(again.body) as { proxies: { name: string; upstream: string; toxics: unknown[] }[] }
    ).proxies;
    expect(after[0]!.toxics).toHaveLength(1);
    expect(after[1]!.upstream).toBe("127.0.0.1:1");
  });

  it("answers populate errors with the error, the status and null proxies", async () => {
    const res = await call("POST", "/populate", [{ name: "x", listen: "127.0.0.1:0" }]);
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.body).toBe(
      '{"error":"missing required field: upstream at proxy 1","status":400,"proxies":null}',
    );
    expect((await call("GET", "/proxies")).body).toBe("{}");
  });

  it("reads at most 1 MiB of a body: a first value ending past it is a bad body, one within it counts", async () => {
    const pad = " ".repeat(1 << 20);
    const late = await call("POST", "/proxies", `${pad}{"name":"late","upstream":"${upstream.address}"}`);
    expect(late.status).toBe(400);
    expect(JSON.parse(late.body)).toMatchObject({ status: 400 });
    expect(late.body).toContain("bad request body");
    const early = `{"name":"early","listen":"127.0.0.1:0","upstream":"${upstream.address}"}`;
    const within = await call("POST", "/proxies", `${early}${" ".repeat(8 << 20)}`);
    expect(within.status).toBe(201);
    expect(Object.keys(JSON.parse((await call("GET", "/proxies")).body))).toEqual(["early"]);
  });

  it("refuses a proxy whose upstream is its own listen address, and opens no socket to itself", async () => {
    const probe = await create("probe"); // a port known to be free once it is deleted
    await call("DELETE", "/proxies/probe");
    const port = probe.listen.split(":").pop();
    for (const upstreamAddress of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const res = await call("POST", "/proxies", {
        name: "loop",
        listen: `127.0.0.1:${port}`,
        upstream: upstreamAddress,
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toBe(
        `upstream ${upstreamAddress} is the proxy's own listen address 127.0.0.1:${port}`,
      );
    }
    expect((await call("GET", "/proxies")).body).toBe("{}");
    // The refused listener was closed: the address is free for a proxy that points elsewhere.
    const fine = await call("POST", "/proxies", {
      name: "fine",
      listen: `127.0.0.1:${port}`,
      upstream: upstream.address,
    });
    expect(fine.status).toBe(201);
    // Turning an existing proxy onto itself is refused too, and leaves it as it was.
    const turned = await call("POST", "/proxies/fine", { upstream: `127.0.0.1:${port}` });
    expect(turned.status).toBe(400);
    expect(JSON.parse((await call("GET", "/proxies/fine")).body)).toMatchObject({
      upstream: upstream.address,
      enabled: true,
    });
  });

  it("answers 404 for /metrics unless metrics are on, and for unknown paths", async () => {
    expect((await call("GET", "/metrics")).status).toBe(404);
    const unknown = await call("GET", "/nothing/here");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toBe("404 page not found\n");
  });
});

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../examples/target-app/prometheus-server.js";
import { prometheusAgent, resolveConfig } from "../../src/agents/prometheus/index.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { hasOpenssl } from "../support/certs.js";
import { testContext } from "./context.js";

/**
 * The client against a stand-in endpoint: what it sends (auth headers), how it retries, times out and
 * trusts a CA. Real query semantics are tested against a real Prometheus in query-probe.test.ts.
 */

const probe = prometheusAgent.probes.query!;
const TOKEN = "tok-3f9a7c1e55d2";
const PASSWORD = "pw-b81c44e0aa17";

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  form: URLSearchParams;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen, n: number) => void;

const ok = (value = "42") =>
  JSON.stringify({
    status: "success",
    data: { resultType: "vector", result: [{ metric: {}, value: [1, value] }] },
  });

let server: Server | undefined;
let seen: Seen[] = [];
const contexts: ReturnType<typeof testContext>[] = [];

async function standIn(handler: Handler, make: () => Server = () => createHttpServer()): Promise<number> {
  seen = [];
  server = make();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const s = {
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization,
        form: new URLSearchParams(body),
      };
      seen.push(s);
      handler(req, res, s, seen.length);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}

function ctxFor(config: Record<string, unknown>) {
  const ctx = testContext({ timeout: "2s", retries: 0, ...config });
  contexts.push(ctx);
  return ctx;
}

async function errorOf(promise: Promise<unknown>): Promise<ChaosError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ChaosError);
    return err as ChaosError;
  }
  throw new Error("expected a ChaosError, nothing was thrown");
}

afterEach(async () => {
  for (const ctx of contexts.splice(0)) await ctx.dispose();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
  }
});

describe("the prometheus client", () => {
  it("posts the query to /api/v1/query with a bearer token", async () => {
    const port = await standIn((_req, res) => res.end(ok()));
    const ctx = ctxFor({ url: `http://127.0.0.1:${port}`, auth: { bearer: TOKEN } });
    const result = await probe.run({ query: "up == 1" }, ctx);
    expect(result.value).toBe(42);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe("POST");
    expect(seen[0]!.url).toBe("/api/v1/query");
    expect(seen[0]!.form.get("query")).toBe("up == 1");
    expect(seen[0]!.form.get("timeout")).toBe("2000ms");
    expect(seen[0]!.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("sends basic credentials and keeps a path prefix of the URL", async () => {
    const port = await standIn((_req, res) => res.end(ok()));
    const ctx = ctxFor({
      url: `http://127.0.0.1:${port}/prom`,
      auth: { basic: { username: "ops", password: PASSWORD } },
    });
    await probe.run({ query: "up", range: "10s", step: "2s", aggregate: "max" }, ctx);
    expect(seen[0]!.url).toBe("/prom/api/v1/query_range");
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from(`ops:${PASSWORD}`).toString("base64")}`);
    const form = seen[0]!.form;
    expect(form.get("step")).toBe("2");
    expect(Number(form.get("end")) - Number(form.get("start"))).toBeCloseTo(10, 3);
  });

  it("sends no Authorization header without auth", async () => {
    const port = await standIn((_req, res) => res.end(ok()));
    await probe.run({ query: "up" }, ctxFor({ url: `http://127.0.0.1:${port}` }));
    expect(seen[0]!.authorization).toBeUndefined();
  });

  it("retries 5xx answers with backoff and returns the answer that finally came", async () => {
    const port = await standIn((_req, res, _s, n) => {
      if (n < 3) res.writeHead(503).end('{"status":"error","errorType":"unavailable","error":"busy"}');
      else res.end(ok("7"));
    });
    const result = await probe.run({ query: "up" }, ctxFor({ url: `http://127.0.0.1:${port}`, retries: 3 }));
    expect(result.value).toBe(7);
    expect(seen).toHaveLength(3);
  });

  it("gives up after the configured retries on persistent 5xx", async () => {
    const port = await standIn((_req, res) => res.writeHead(500).end("internal trouble"));
    const err = await errorOf(
      probe.run({ query: "up" }, ctxFor({ url: `http://127.0.0.1:${port}`, retries: 2 })),
    );
    expect(err.code).toBe("agent");
    expect(err.message).toMatch(/failing: HTTP 500: internal trouble \(after 3 attempts\)/);
    expect(seen).toHaveLength(3);
  });

  it("does not retry a query Prometheus rejected", async () => {
    const port = await standIn((_req, res) =>
      res.writeHead(400).end('{"status":"error","errorType":"bad_data","error":"parse error at char 3"}'),
    );
    const err = await errorOf(
      probe.run({ query: "up" }, ctxFor({ url: `http://127.0.0.1:${port}`, retries: 3 })),
    );
    expect(err.code).toBe("invalid");
    expect(err.message).toBe("Prometheus rejected the query: parse error at char 3");
    expect(seen).toHaveLength(1);
  });

  it("reports an unreachable server as an agent error after bounded retries, with a hint", async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await errorOf(
      probe.preflight!({ query: "up" }, ctxFor({ url: `http://127.0.0.1:${port}`, retries: 2 })),
    );
    expect(err.code).toBe("agent");
    expect(err.message).toMatch(
      new RegExp(`^Prometheus at http://127\\.0\\.0\\.1:${port} unreachable: .*ECONNREFUSED`),
    );
    expect(err.message).toMatch(/after 3 attempts/);
    expect(err.hint).toBe("start Prometheus or set PROMETHEUS_URL / configuration.prometheus.url");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("times out a query that gets no answer", async () => {
    const port = await standIn(() => {
      // Never answers.
    });
    const err = await errorOf(
      probe.run({ query: "up", timeout: "200ms" }, ctxFor({ url: `http://127.0.0.1:${port}`, retries: 1 })),
    );
    expect(err.code).toBe("agent");
    expect(err.message).toMatch(/no answer within 200ms \(after 2 attempts\)/);
    expect(seen).toHaveLength(2);
  });

  it("stops at once when the run is aborted", async () => {
    const port = await standIn(() => {});
    const controller = new AbortController();
    const ctx = {
      ...ctxFor({ url: `http://127.0.0.1:${port}`, retries: 3, timeout: "10s" }),
      signal: controller.signal,
    };
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await errorOf(probe.run({ query: "up" }, ctx));
    expect(err.code).toBe("aborted");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("never puts a token or password into an error, even when the server echoes it", async () => {
    const port = await standIn((req, res, _s, n) => {
      const body = `denied for ${req.headers.authorization}`;
      if (n % 2 === 1) res.writeHead(401).end(body);
      else res.writeHead(502).end(body);
    });
    const url = `http://127.0.0.1:${port}`;
    const bearer = await errorOf(probe.run({ query: "up" }, ctxFor({ url, auth: { bearer: TOKEN } })));
    expect(bearer.message).toContain("HTTP 401");
    expect(bearer.hint).toBe("check configuration.prometheus.auth");
    const basic = { basic: { username: "ops", password: PASSWORD } };
    const failing = await errorOf(probe.run({ query: "up" }, ctxFor({ url, auth: basic })));
    expect(failing.message).toContain("HTTP 502");
    const encoded = Buffer.from(`ops:${PASSWORD}`).toString("base64");
    for (const err of [bearer, failing]) {
      const text = `${err.message} ${err.hint ?? ""} ${String((err.cause as Error | undefined)?.message)}`;
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encoded);
      expect(text).toContain("***");
    }
  });

  it("never shows credentials written into the URL", async () => {
    const port = await freePort();
    const ctx = ctxFor({ url: `http://ops:${PASSWORD}@127.0.0.1:${port}` });
    const err = await errorOf(probe.run({ query: "up" }, ctx));
    expect(err.message).toContain(`Prometheus at http://127.0.0.1:${port} unreachable`);
    expect(err.message).not.toContain(PASSWORD);
  });

  it("reports a non-JSON answer as an agent error", async () => {
    const port = await standIn((_req, res) => res.writeHead(200).end("<html>login</html>"));
    const err = await errorOf(probe.run({ query: "up" }, ctxFor({ url: `http://127.0.0.1:${port}` })));
    expect(err.code).toBe("agent");
    expect(err.message).toContain("<html>login</html>");
  });
});

// In CI openssl is installed (.ci/run): its absence there fails this suite instead of skipping it.
describe.skipIf(!hasOpenssl && !process.env.CI)("the prometheus client over https", () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "chaos-prom-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "ca.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    key = readFileSync(join(dir, "key.pem"));
    cert = readFileSync(join(dir, "ca.pem"));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("trusts a server certificate signed by the configured CA file", async () => {
    const port = await standIn(
      (_req, res) => res.end(ok("1")),
      () => createHttpsServer({ key, cert }),
    );
    const result = await probe.run(
      { query: "up" },
      ctxFor({ url: `https://127.0.0.1:${port}`, ca: join(dir, "ca.pem") }),
    );
    expect(result.value).toBe(1);
  });

  it("refuses the same server without the CA file", async () => {
    const port = await standIn(
      (_req, res) => res.end(ok("1")),
      () => createHttpsServer({ key, cert }),
    );
    const err = await errorOf(probe.run({ query: "up" }, ctxFor({ url: `https://127.0.0.1:${port}` })));
    expect(err.code).toBe("agent");
    expect(err.message).toMatch(/self[- ]signed/i);
    expect(seen).toHaveLength(0);
  });

  it("reports a CA file that cannot be read as an invalid configuration", async () => {
    const err = await errorOf(
      probe.run({ query: "up" }, ctxFor({ url: "https://127.0.0.1:1", ca: join(dir, "missing.pem") })),
    );
    expect(err.code).toBe("invalid");
    expect(err.message).toMatch(/cannot read the CA file .*missing\.pem/);
  });
});

describe("the prometheus configuration", () => {
  it("defaults to PROMETHEUS_URL, then to 127.0.0.1:9090, with a 5s timeout and 3 retries", () => {
    expect(resolveConfig(undefined, { PROMETHEUS_URL: "http://prom.internal:9091" })).toEqual({
      url: "http://prom.internal:9091",
      auth: undefined,
      ca: undefined,
      timeoutMs: 5_000,
      retries: 3,
    });
    expect(resolveConfig({}, {}).url).toBe("http://127.0.0.1:9090");
    expect(resolveConfig({ url: "http://x:1", timeout: "250ms", retries: 0 }, {})).toMatchObject({
      timeoutMs: 250,
      retries: 0,
    });
  });

  it("rejects a malformed auth block without echoing its content", () => {
    let err: unknown;
    try {
      resolveConfig({ auth: { token: TOKEN } }, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChaosError);
    expect((err as ChaosError).code).toBe("invalid");
    expect((err as ChaosError).message).not.toContain(TOKEN);
  });

  it("rejects a URL that is not http or https", () => {
    expect(() => resolveConfig({ url: "ftp://x" }, {})).toThrow(/http:\/\/ or https:\/\//);
  });
});

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { testContext } from "../../../test/support/agent-context.js";
import { ChaosError, NoAnswerError } from "../../experiments/errors.js";
import { httpAgent } from "./index.js";

const context = testContext;

const probe = httpAgent.probes.request!;

/** Runs the probe and returns the ChaosError it threw; fails the test when it did not throw one. */
async function probeError(args: Record<string, unknown>, ctx = context()): Promise<ChaosError> {
  try {
    await probe.run(args, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(ChaosError);
    return err as ChaosError;
  }
  throw new Error("the probe did not throw");
}

const HEALTH = { status: "ok", checks: [{ name: "db", ok: true }], "key with space": 7 };
const BIG_CHUNK = Buffer.alloc(64 * 1024, "x");

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  switch (url.pathname) {
    case "/health":
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(HEALTH));
      return;
    case "/teapot":
      res.writeHead(418).end("short and stout");
      return;
    case "/text":
      res.writeHead(200, { "content-type": "text/plain" }).end("not json at all");
      return;
    case "/echo": {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        const echoed = { method: req.method, headers: req.headers, body };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(echoed));
      });
      return;
    }
    case "/hang":
      // Never answers: the probe's timeout must end the request.
      return;
    case "/big": {
      // Streams up to 64 MiB, far beyond expect-body-max, until the client goes away.
      res.writeHead(200, { "content-type": "application/json" });
      let sent = 0;
      const pump = () => {
        while (sent < 1024 && !res.destroyed) {
          sent++;
          if (!res.write(BIG_CHUNK)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
      return;
    }
    default:
      res.writeHead(404).end();
  }
}

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe("http request probe", () => {
  it("reports the status as the value, with latency and body fields and a short summary", async () => {
    const result = await probe.run({ url: `${base}/health` }, context());
    expect(result.value).toBe(200);
    expect(result.fields?.status).toBe(200);
    expect(typeof result.fields?.latency).toBe("number");
    expect(result.fields?.latency).toBeGreaterThanOrEqual(0);
    expect(result.fields?.latency).toBeLessThan(10_000);
    expect(JSON.parse(result.fields?.body as string)).toEqual(HEALTH);
    expect(result.summary).toMatch(/^200 in \d+ms$/);
  });

  it("treats a non-2xx status as a value to judge, not as a failure", async () => {
    const result = await probe.run({ url: `${base}/teapot` }, context());
    expect(result.value).toBe(418);
    expect(result.fields?.body).toBe("short and stout");
  });

  it("is the agent's default probe", () => {
    expect(httpAgent.defaultProbe).toBe("request");
    expect(httpAgent.name).toBe("http");
    expect(Object.keys(httpAgent.actions)).toEqual([]);
  });

  it("judges the json-path value of the body when one is given", async () => {
    const ok = await probe.run({ url: `${base}/health`, "json-path": "$.checks[0].ok" }, context());
    expect(ok.value).toBe(true);
    expect(ok.fields?.value).toBe(true);
    expect(ok.fields?.status).toBe(200);
    expect(ok.summary).toMatch(/^200 in \d+ms, \$\.checks\[0\]\.ok = true$/);
    const spaced = await probe.run({ url: `${base}/health`, "json-path": "$['key with space']" }, context());
    expect(spaced.value).toBe(7);
  });

  it("reports a missing json-path as null, the empty outcome", async () => {
    const result = await probe.run({ url: `${base}/health`, "json-path": "$.checks[3].name" }, context());
    expect(result.value).toBeNull();
    expect(result.fields?.status).toBe(200);
  });

  it("fails with a clear reason when json-path meets a body that is not JSON", async () => {
    const err = await probeError({ url: `${base}/text`, "json-path": "$.status" });
    expect(err.code).toBe("agent");
    expect(err.message).toBe(
      `GET ${base}/text failed: response body is not JSON (status 200), json-path cannot be evaluated`,
    );
  });

  it("sends an object body as JSON with the method and headers given", async () => {
    const result = await probe.run(
      {
        url: `${base}/echo`,
        method: "POST",
        headers: { "x-request-id": "abc-123" },
        body: { amount: 5 },
        "json-path": "$",
      },
      context(),
    );
    const echoed = result.value as { method: string; headers: Record<string, string>; body: string };
    expect(echoed.method).toBe("POST");
    expect(echoed.headers["content-type"]).toBe("application/json");
    expect(echoed.headers["x-request-id"]).toBe("abc-123");
    expect(JSON.parse(echoed.body)).toEqual({ amount: 5 });
  });

  it("sends a HEAD request and reads no body", async () => {
    const result = await probe.run({ url: `${base}/health`, method: "HEAD" }, context());
    expect(result.value).toBe(200);
    expect(result.fields?.body).toBe("");
  });

  it("gives up on a server that never answers and says it timed out", async () => {
    const err = await probeError({ url: `${base}/hang`, timeout: "200ms" });
    expect(err.code).toBe("agent");
    expect(err.message).toBe(`GET ${base}/hang failed: timed out after 200ms`);
    // The system under test not answering is a measurement, not a blind probe.
    expect(err).toBeInstanceOf(NoAnswerError);
  });

  it("reports connection refused as an agent error with a hint", async () => {
    const port = await closedPort();
    const err = await probeError({ url: `http://127.0.0.1:${port}/health` });
    expect(err.code).toBe("agent");
    expect(err.message).toBe(`GET http://127.0.0.1:${port}/health failed: connection refused`);
    expect(err.hint).toContain(`127.0.0.1:${port}`);
    expect(err).toBeInstanceOf(NoAnswerError);
  });

  it("stops when the run is aborted", async () => {
    const controller = new AbortController();
    const pending = probeError(
      { url: `${base}/hang`, timeout: "10s" },
      context({ signal: controller.signal }),
    );
    setTimeout(() => controller.abort(), 50);
    const err = await pending;
    expect(err.message).toContain("aborted");
    expect(err).not.toBeInstanceOf(NoAnswerError);
  });

  it("never buffers a body beyond expect-body-max", async () => {
    const result = await probe.run({ url: `${base}/big`, "expect-body-max": 100_000 }, context());
    expect(result.value).toBe(200);
    expect(result.fields?.body).toHaveLength(4096);
    const err = await probeError({ url: `${base}/big`, "expect-body-max": 100_000, "json-path": "$.a" });
    expect(err.message).toContain("exceeds expect-body-max (100000 bytes)");
    expect(err.hint).toBe("raise expect-body-max");
  });

  describe("secrets", () => {
    const token = "Bearer sk-live-0123456789abcdef";

    it("keeps header values out of error messages, hints and formatted errors", async () => {
      const port = await closedPort();
      const err = await probeError({
        url: `http://127.0.0.1:${port}/`,
        headers: { Authorization: token, Cookie: "session=0ddba11", "X-Api-Key": "k3y-v4lue" },
      });
      for (const text of [err.message, err.hint ?? "", err.format(), String(err.stack)]) {
        expect(text).not.toContain("sk-live");
        expect(text).not.toContain("0ddba11");
        expect(text).not.toContain("k3y-v4lue");
      }
      expect(err.message).toContain("connection refused");
    });

    it("keeps header values out of a timeout error and the summary", async () => {
      const err = await probeError({
        url: `${base}/hang`,
        timeout: "100ms",
        headers: { Authorization: token },
      });
      expect(err.format()).not.toContain("sk-live");
      const result = await probe.run({ url: `${base}/health`, headers: { Authorization: token } }, context());
      expect(result.summary).not.toContain("sk-live");
    });

    it("scrubs credentials a server echoes back from the recorded body", async () => {
      const result = await probe.run({ url: `${base}/echo`, headers: { Authorization: token } }, context());
      expect(result.fields?.body).not.toContain("sk-live");
      expect(result.fields?.body).toContain('"authorization":"***"');
    });

    it("keeps resolved secrets out of the debug log of a request that succeeded", async () => {
      const lines: string[] = [];
      const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
      await probe.run(
        { url: `${base}/health?token=t0k3n-s3cr3t` },
        context({ log, secrets: { apiToken: "t0k3n-s3cr3t" } }),
      );
      expect(lines.join("")).toContain("/health?token=***");
      expect(lines.join("")).not.toContain("t0k3n-s3cr3t");
    });

    it("keeps resolved secrets and URL credentials out of the error", async () => {
      const port = await closedPort();
      const err = await probeError(
        { url: `http://admin:hunter22@127.0.0.1:${port}/?token=t0k3n-s3cr3t` },
        context({ secrets: { apiToken: "t0k3n-s3cr3t" } }),
      );
      expect(err.message).not.toContain("hunter22");
      expect(err.message).not.toContain("t0k3n-s3cr3t");
      expect(err.message).toContain(`http://127.0.0.1:${port}/?token=***`);
    });
  });

  describe("check", () => {
    it("points at the offending character of a json-path", () => {
      const problems = probe.check!({ url: "http://127.0.0.1/", "json-path": "$.a[*]" });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ path: ["json-path"], offset: 4 });
    });

    it("accepts a valid request", () => {
      expect(probe.check!({ url: "https://example.test/health", "json-path": "$.a['b c'][0]" })).toEqual([]);
    });
  });
});

describe("https", () => {
  let dir: string;
  let tls: https.Server;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chaoskit-http-tls-"));
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"].concat([
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ]),
      { stdio: "ignore" },
    );
    tls = https.createServer(
      { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
      handler,
    );
    await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/health`;
  });

  afterEach(() => tls.closeIdleConnections());

  afterAll(async () => {
    tls.closeAllConnections();
    await new Promise((resolve) => tls.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a self-signed certificate and suggests insecure", async () => {
    const err = await probeError({ url });
    expect(err.code).toBe("agent");
    expect(err.message).toMatch(/failed: TLS error: .*self[- ]signed/i);
    expect(err.hint).toContain("insecure: true");
  });

  it("accepts a self-signed certificate with insecure: true", async () => {
    const result = await probe.run({ url, insecure: true, "json-path": "$.status" }, context());
    expect(result.value).toBe("ok");
  });
});

describe("arguments schema", () => {
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(probe.args);

  it("accepts a full request and rejects what the probe cannot send", () => {
    expect(
      validate({
        url: "https://a.test/x",
        method: "POST",
        body: { a: 1 },
        timeout: "2s",
        "json-path": "$.a",
      }),
    ).toBe(true);
    expect(validate({ url: "ftp://a.test/" })).toBe(false);
    expect(validate({ url: "http://a.test/", method: "TRACE" })).toBe(false);
    expect(validate({ url: "http://a.test/", headers: { "bad header": "x" } })).toBe(false);
    expect(validate({ url: "http://a.test/", retries: 3 })).toBe(false);
    expect(validate({ method: "GET" })).toBe(false);
  });
});

describe("revert", () => {
  it("refuses: the http agent injects no faults", async () => {
    await expect(
      httpAgent.revert({ agent: "http", kind: "anything", description: "x", data: {} }, context()),
    ).rejects.toMatchObject({ code: "agent", message: "http has no faults to revert" });
  });
});

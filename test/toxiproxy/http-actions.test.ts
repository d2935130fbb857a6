import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import { toxiproxyAgent } from "../../src/agents/toxiproxy/index.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { request } from "../proxy/helpers.js";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import { forwardTo } from "../support/hostile.js";
import { ledgerEntries } from "../support/hostile-cases.js";
import { type TestRun, testRun } from "./context.js";

/** An HTTP upstream that answers 200 with the path it was asked for. */
let app: http.Server;
let appAddress = "";
const runs: TestRun[] = [];

beforeAll(async () => {
  app = http.createServer((req, res) => res.end(`ok ${req.url}`));
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  appAddress = `127.0.0.1:${(app.address() as AddressInfo).port}`;
  await ensureCliBuilt();
}, 180_000);
afterAll(async () => {
  await new Promise<void>((resolve) => app.close(() => resolve()));
});
afterEach(async () => {
  for (const r of runs.splice(0)) await r.close();
});

async function embeddedRun() {
  const port = await freePort();
  const run = testRun({
    toxiproxy: { proxies: [{ name: "payments", listen: `127.0.0.1:${port}`, upstream: appAddress }] },
  });
  runs.push(run);
  expect((await toxiproxyAgent.probes.proxy!.run({ proxy: "payments" }, run.ctx)).value).toBe(true);
  return { run, url: `http://127.0.0.1:${port}` };
}

describe("the HTTP actions on the embedded proxy", () => {
  it("http-status takes the issue's arguments: 10% of POST /charge answered 503, per request; the revert lifts it", async () => {
    const { run, url } = await embeddedRun();
    const action = toxiproxyAgent.actions["http-status"]!;
    await action.preflight!({ target: { proxy: "payments" }, args: {} }, run.ctx);
    const fault = await run.inject(
      "http-status",
      { proxy: "payments" },
      { status: 503, match: { method: "POST", path: "/charge" }, percent: 10 },
    );
    const server = (fault.revert!.data as { url: string }).url;
    const [toxic] = JSON.parse((await request(server, "GET", "/proxies/payments/toxics")).body);
    expect(toxic).toMatchObject({
      type: "http_status",
      stream: "upstream",
      attributes: { status: 503, match: { method: ["POST"], path: "/charge" } },
    });
    expect(toxic.toxicity).toBeCloseTo(0.1, 6);
    await toxiproxyAgent.revert(fault.revert!, run.ctx);
    expect(JSON.parse((await request(server, "GET", "/proxies/payments/toxics")).body)).toEqual([]);
    expect((await request(url, "POST", "/charge", "{}")).status).toBe(200);
  });

  it("http-status at 100% answers every matching request and leaves the others to the upstream", async () => {
    const { run, url } = await embeddedRun();
    const fault = await run.inject(
      "http-status",
      { proxy: "payments" },
      { status: 503, body: "down", match: { path: "/charge" } },
    );
    const faulted = await request(url, "POST", "/charge", "{}");
    expect([faulted.status, faulted.body]).toEqual([503, "down"]);
    expect((await request(url, "GET", "/health")).body).toBe("ok /health");
    await toxiproxyAgent.revert(fault.revert!, run.ctx);
  });

  it("http-delay holds the matching responses by the duration given", async () => {
    const { run, url } = await embeddedRun();
    const fault = await run.inject(
      "http-delay",
      { proxy: "payments" },
      { latency: "300ms", match: { path: "/charge" } },
    );
    const timed = async (method: string, path: string): Promise<number> => {
      const start = performance.now();
      await request(url, method, path, method === "POST" ? "{}" : undefined);
      return performance.now() - start;
    };
    // The baseline: the quickest of three unmatched requests through the same proxy, in this test.
    const baseline = Math.min(
      await timed("GET", "/health"),
      await timed("GET", "/health"),
      await timed("GET", "/health"),
    );
    const held = await timed("POST", "/charge");
    expect(held).toBeGreaterThanOrEqual(290);
    expect(held - baseline, `held ${held} ms, baseline ${baseline} ms`).toBeGreaterThanOrEqual(150);
    await toxiproxyAgent.revert(fault.revert!, run.ctx);
  });

  it("http-header, http-body and http-abort are applied as toxics of their types", async () => {
    const { run, url } = await embeddedRun();
    const header = await run.inject("http-header", { proxy: "payments" }, { set: { "x-fault": "yes" } });
    const body = await run.inject(
      "http-body",
      { proxy: "payments" },
      { body: "{}", match: { path: "/body" } },
    );
    const abort = await run.inject(
      "http-abort",
      { proxy: "payments" },
      { reset: true, match: { path: "/abort" } },
    );
    const res = await request(url, "GET", "/body");
    expect([res.headers["x-fault"], res.body]).toEqual(["yes", "{}"]);
    await expect(request(url, "GET", "/abort")).rejects.toThrow(/ECONNRESET|socket hang up/);
    for (const f of [abort, body, header]) await toxiproxyAgent.revert(f.revert!, run.ctx);
    expect((await request(url, "GET", "/abort")).body).toBe("ok /abort");
  });
});

/**
 * A server that answers as Toxiproxy 2.12 does to a toxic type it does not know (400 "invalid toxic type",
 * checked in AddToxicJson before the name and the attributes) and passes everything else to a real server.
 */
async function toxiproxy212(real: ToxiproxyServer): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString();
      if (req.method === "POST" && req.url!.endsWith("/toxics") && /"type"\s*:\s*"http_/.test(body)) {
        res
          .writeHead(400, { "content-type": "application/json" })
          .end('{"error":"invalid toxic type","status":400}\n');
        return;
      }
      const answer = await forwardTo(real.url, req.method!, req.url!, body);
      res
        .writeHead(answer.status, { "content-type": answer.contentType ?? "application/json" })
        .end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("against a Toxiproxy that does not know HTTP toxics", () => {
  let real: ToxiproxyServer;
  let old: { url: string; close(): Promise<void> };
  let dir: string;

  beforeAll(async () => {
    real = await startToxiproxyServer({
      port: 0,
      proxies: [{ name: "payments", listen: `127.0.0.1:${await freePort()}`, upstream: appAddress }],
    });
    old = await toxiproxy212(real);
    dir = await mkdtemp(join(tmpdir(), "chaos-http-preflight-"));
  });
  afterAll(async () => {
    await old.close();
    await real.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("the preflight refuses, saying so, from what the server answered", async () => {
    const run = testRun({ toxiproxy: { url: old.url } });
    runs.push(run);
    const action = toxiproxyAgent.actions["http-delay"]!;
    await expect(
      action.preflight!({ target: { proxy: "payments" }, args: {} }, run.ctx),
    ).rejects.toMatchObject({
      code: "agent",
      message: expect.stringContaining(
        'does not know HTTP toxics (it answered http_status with 400 "invalid toxic type")',
      ),
    });
    // The same question to a server that knows them passes.
    const ours = testRun({ toxiproxy: { url: real.url } });
    runs.push(ours);
    await action.preflight!({ target: { proxy: "payments" }, args: {} }, ours.ctx);
  });

  it("chaos run stops with exit 4 before the steady state, nothing injected, nothing in the ledger", async () => {
    const file = join(dir, "http-status.yaml");
    await writeFile(
      file,
      `version: 1
title: payments answers 503 to some charges
configuration:
  toxiproxy: { url: "${old.url}" }
method:
  - action: toxiproxy.http-status
    target: { proxy: payments }
    args: { status: 503, match: { method: POST, path: /charge }, percent: 10 }
    duration: 30s
`,
    );
    const ledger = join(dir, "ledger");
    const run = await runCli([
      "run",
      file,
      "--ledger",
      ledger,
      "--journal",
      join(dir, "j.json"),
      "--no-reports",
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(run.stdout + run.stderr).toContain("does not know HTTP toxics");
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse((await request(real.url, "GET", "/proxies/payments/toxics")).body)).toEqual([]);
    expect(ledgerEntries(ledger)).toBe(0);
  }, 30_000);
});

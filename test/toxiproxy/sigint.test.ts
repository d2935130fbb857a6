import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Toxiproxy } from "toxiproxy-node-client";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { connect, echoServer, type TcpServer } from "../proxy/helpers.js";
import { type CliProcess, ensureCliBuilt, startCli, stopCli } from "../support/cli.js";

let dir: string;
let server: ToxiproxyServer;
let echo: TcpServer;
let cli: CliProcess | undefined;

beforeAll(ensureCliBuilt, 180_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-toxiproxy-sigint-"));
  server = await startToxiproxyServer({ port: 0 });
  echo = await echoServer();
});
afterEach(async () => {
  await stopCli(cli);
  cli = undefined;
  await server.close();
  await echo.close();
  await rm(dir, { recursive: true, force: true });
});

/** Starts `chaos run` with a 30 s latency fault on proxy `api` (created by the run when `url` is given). */
async function runWithLatency(url: string | undefined, port: number): Promise<CliProcess> {
  const file = join(dir, "latency.yaml");
  await writeFile(
    file,
    `version: 1
title: the api is slow for 30 s
configuration:
  toxiproxy:
${url ? `    url: "${url}"\n` : ""}    proxies:
      - { name: api, listen: "127.0.0.1:${port}", upstream: "${echo.address}" }
method:
  - action: toxiproxy.latency
    target: { proxy: api }
    args: { latency: 200ms }
    duration: 30s
`,
  );
  cli = startCli(
    ["run", file, "--ledger", join(dir, "ledger"), "--journal", join(dir, "journal.json"), "--no-reports"],
    {
      timeoutMs: 25_000,
    },
  );
  return cli;
}

const ledgerFiles = () =>
  existsSync(join(dir, "ledger")) ? readdirSync(join(dir, "ledger")).filter((f) => f.endsWith(".json")) : [];

describe("SIGINT mid-fault", () => {
  it("leaves no toxic behind on an external Toxiproxy, nor the proxy the run created", async () => {
    const toxiproxy = new Toxiproxy(server.url);
    const run = await runWithLatency(server.url, await freePort());
    const toxics = async () => {
      const res = await fetch(`${server.url}/proxies/api/toxics`);
      return res.ok ? ((await res.json()) as unknown[]).length : -1;
    };
    await expect.poll(toxics, { timeout: 15_000, interval: 100 }).toBe(1);
    run.child.kill("SIGINT");
    const r = await run.result;
    expect(r.code, r.stderr).toBe(3);
    await expect(toxiproxy.get("api")).rejects.toThrow("404");
    expect(Object.keys(await toxiproxy.getAll())).toEqual([]);
    expect(ledgerFiles()).toEqual([]);
  });

  it("closes the embedded proxy with the run", async () => {
    const port = await freePort();
    const run = await runWithLatency(undefined, port);
    await expect
      .poll(
        async () =>
          connect(port).then(
            (s) => {
              s.destroy();
              return true;
            },
            () => false,
          ),
        { timeout: 15_000, interval: 100 },
      )
      .toBe(true);
    run.child.kill("SIGINT");
    const r = await run.result;
    expect(r.code, r.stderr).toBe(3);
    await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(ledgerFiles()).toEqual([]);
  });
});

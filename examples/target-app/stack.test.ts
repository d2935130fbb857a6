import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "./lib/http-client.js";
import { SERVICE_NAMES, type Stack, startStack } from "./stack.js";
import { isAlive } from "./state-file.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const appDir = fileURLToPath(new URL("./", import.meta.url));

/** The services run compiled; compile when dist/ is missing or older than a source file. */
function ensureBuilt(): void {
  const built = join(repo, "dist/examples/target-app/services/web.js");
  const newestSource = Math.max(
    ...readdirSync(appDir, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
      .map((file) => statSync(join(appDir, file)).mtimeMs),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource) return;
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: repo, stdio: "ignore" });
  } catch {
    // Type errors elsewhere in the repository still emit our files; their absence fails below.
  }
}

async function metric(url: string, series: string): Promise<number> {
  const text = (await request(`${url}/metrics`, { timeoutMs: 2000 })).text;
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const readPid = (file: string) => Number(readFileSync(file, "utf8").trim());
const OK = 'loadgen_requests_total{outcome="ok"}';
const ERRORS = 'loadgen_requests_total{outcome="error"}';

describe("the sample app stack", () => {
  let stack: Stack;
  let runDir: string;
  const everyPid = new Set<number>();

  beforeAll(async () => {
    ensureBuilt();
    runDir = mkdtempSync(join(tmpdir(), "target-app-test-"));
    stack = await startStack({ runDir, load: { rate: 20, durationS: 60 } });
    for (const name of SERVICE_NAMES) everyPid.add(readPid(stack.pidFiles[name]));
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(runDir, { recursive: true, force: true });
  });

  it("carries checkout traffic end to end through the three proxies", async () => {
    const proxies = (await request(`${stack.toxiproxyUrl}/proxies`)).json as Record<
      string,
      { upstream: string }
    >;
    expect(Object.keys(proxies).sort()).toEqual(["orders-payments", "payments-gateway", "web-orders"]);
    expect(stack.proxies.map((p) => `${p.from}->${p.to}`)).toEqual([
      "web->orders",
      "orders->payments",
      "payments->gateway",
    ]);
    const okBefore = await metric(stack.urls.loadgen, OK);
    await until(
      async () => (await metric(stack.urls.loadgen, OK)) >= okBefore + 20,
      10_000,
      "20 more checkouts",
    );
    expect(await metric(stack.urls.loadgen, ERRORS)).toBe(0);
    expect(await metric(stack.urls.gateway, "gateway_charges_total")).toBeGreaterThan(0);
    expect(stack.metricsTargets).toHaveLength(6);
  });

  it("restarts payments killed with SIGKILL under a new pid, and the resilient app hides the outage", async () => {
    const errorsBefore = await metric(stack.urls.loadgen, ERRORS);
    const oldPid = readPid(stack.pidFiles.payments);
    process.kill(oldPid, "SIGKILL");
    await until(
      () => {
        const pid = readPid(stack.pidFiles.payments);
        return pid !== oldPid && isAlive(pid);
      },
      10_000,
      "a new payments pid",
    );
    const newPid = readPid(stack.pidFiles.payments);
    everyPid.add(newPid);
    await until(
      () =>
        request(`${stack.urls.payments}/healthz`).then(
          (r) => r.status === 200,
          () => false,
        ),
      10_000,
      "payments healthy again",
    );
    expect(isAlive(oldPid)).toBe(false);
    const okAfterRestart = await metric(stack.urls.loadgen, OK);
    // Long enough for every checkout caught in the outage to finish its retries (orders gives up after 3 s).
    await sleep(4000);
    expect(await metric(stack.urls.loadgen, OK)).toBeGreaterThan(okAfterRestart + 40);
    expect(await metric(stack.urls.loadgen, ERRORS)).toBe(errorsBefore);
  });

  it("leaves no process, pid file or listener behind when stopped", async () => {
    for (const name of SERVICE_NAMES) everyPid.add(readPid(stack.pidFiles[name]));
    await stack.stop();
    for (const pid of everyPid) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    for (const name of SERVICE_NAMES) expect(existsSync(stack.pidFiles[name])).toBe(false);
    await expect(request(`${stack.toxiproxyUrl}/version`, { timeoutMs: 1000 })).rejects.toThrow();
    await expect(request(`${stack.urls.web}/healthz`, { timeoutMs: 1000 })).rejects.toThrow();
  });
});

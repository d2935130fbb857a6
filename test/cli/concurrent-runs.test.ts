import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import type { Journal } from "../../src/experiments/journal.js";
import { echoServer, type TcpServer } from "../proxy/helpers.js";
import { type CliProcess, ensureCliBuilt, startCli, stopCli } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";

let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(ensureCliBuilt, 180_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-concurrent-"));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

/** Two runs share one ledger folder, as two people on one machine share their per-user state folder. */
const ledger = () => join(dir, "ledger");
const leases = () => readdirSync(join(ledger(), "locks"));

function run(name: string): CliProcess {
  const file = join(dir, `${name}.yaml`);
  const cli = startCli(
    ["run", file, "--ledger", ledger(), "--journal", join(dir, name, "journal.json"), "--no-reports"],
    { timeoutMs: 25_000 },
  );
  cleanups.push(() => stopCli(cli));
  return cli;
}

async function experiment(name: string, title: string, body: string): Promise<void> {
  await writeFile(join(dir, `${name}.yaml`), `version: 1\ntitle: ${title}\n${body}`);
}

const journal = async (name: string) =>
  JSON.parse(await readFile(join(dir, name, "journal.json"), "utf8")) as Journal;

describe("two runs on the same target", () => {
  it("refuse the second on a pid-file, naming the first, and leave the first's verdict alone", async () => {
    const target: Target = await startTarget();
    cleanups.push(() => target.stop());
    const suspend = (duration: string) => `method:
  - action: process.suspend
    target: { pid-file: "${target.pidFile}" }
    duration: ${duration}
`;
    await experiment("a", "A freezes the target", suspend("2500ms"));
    await experiment("b", "B freezes the target", suspend("200ms"));
    const a = run("a");
    await target.waitForState((s) => s === "T", 10_000);
    const runA = /\(run ([\w-]+)\)/.exec(a.stdout())![1]!;

    const b = await run("b").result;
    expect(b.code, b.stdout).toBe(4);
    expect(b.stdout).toContain(`is locked by run ${runA} (pid ${a.pid}, experiment "A freezes the target"`);
    // B touched nothing: the target is still frozen by A, whose window is not cut short.
    expect(target.state()).toBe("T");
    expect((await journal("b")).faults).toEqual([]);

    const ra = await a.result;
    expect(ra.code, ra.stdout).toBe(0);
    const ja = await journal("a");
    expect(ja.status).toBe("completed"); // no hypothesis: nothing judged
    expect(
      Date.parse(ja.faults[0]!.revertedAt!) - Date.parse(ja.faults[0]!.appliedAt),
    ).toBeGreaterThanOrEqual(2400);
    expect(await target.conts()).toBe(1);
    expect(leases()).toEqual([]);
  });

  it("refuse the second on an external proxy, which the first creates and removes unharmed", async () => {
    const echo: TcpServer = await echoServer();
    cleanups.push(() => echo.close());
    const apiPort = await freePort();
    const proxy = startCli(["proxy", "--port", String(apiPort)], { timeoutMs: 60_000 });
    cleanups.push(() => stopCli(proxy));
    const url = `http://127.0.0.1:${apiPort}`;
    await expect
      .poll(
        () =>
          fetch(`${url}/version`).then(
            (r) => r.ok,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    const listen = await freePort();
    const body = (duration: string) => `configuration:
  toxiproxy:
    url: "${url}"
    proxies:
      - { name: api, listen: "127.0.0.1:${listen}", upstream: "${echo.address}" }
method:
  - action: toxiproxy.latency
    target: { proxy: api }
    args: { latency: 100ms }
    duration: ${duration}
`;
    await experiment("a", "A slows the api", body("2500ms"));
    await experiment("b", "B slows the api", body("200ms"));
    const toxics = async () => {
      const res = await fetch(`${url}/proxies/api/toxics`);
      return res.ok ? ((await res.json()) as { name: string }[]).map((t) => t.name) : undefined;
    };
    const a = run("a");
    await expect.poll(toxics, { timeout: 10_000, interval: 50 }).toHaveLength(1);
    const runA = /\(run ([\w-]+)\)/.exec(a.stdout())![1]!;

    const b = await run("b").result;
    expect(b.code, b.stdout).toBe(4);
    expect(b.stdout).toContain(`toxiproxy:${url}:api is locked by run ${runA}`);
    // A's proxy and toxic are untouched by B.
    expect(await toxics()).toHaveLength(1);

    const ra = await a.result;
    expect(ra.code, ra.stdout).toBe(0);
    expect((await journal("a")).status).toBe("completed");
    // A created the proxy and removed it; nothing of either run remains.
    expect((await fetch(`${url}/proxies`).then((r) => r.json())) as object).toEqual({});
    expect(leases()).toEqual([]);
  });
});

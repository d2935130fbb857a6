import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { type CliProcess, ensureCliBuilt, ROOT, runCli, startCli, stopCli } from "../support/cli.js";
import { front, isDeleteToxic, realToxiproxy, toxicsOn } from "../support/hostile-cases.js";
import { startTarget, type Target } from "../support/target.js";

let dir: string;
let target: Target;
let cli: CliProcess | undefined;

beforeAll(ensureCliBuilt, 180_000);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-signals-"));
  target = await startTarget();
});

afterEach(async () => {
  await stopCli(cli);
  cli = undefined;
  await target.stop();
  await rm(dir, { recursive: true, force: true });
});

const ledger = () => join(dir, "ledger");
const journalPath = () => join(dir, "journal.json");
const ledgerFiles = () =>
  existsSync(ledger()) ? readdirSync(ledger()).filter((f) => f.endsWith(".json")) : [];
const readJournal = () => JSON.parse(readFileSync(journalPath(), "utf8")) as Journal;
const isStopped = (s: string | undefined) => s === "T";
const isRunning = (s: string | undefined) => s !== undefined && s !== "T" && s !== "t";

/** Starts `chaos run` on an experiment that freezes the target (30 s by default). */
async function startFreezeRun(
  duration = "30s",
  env: NodeJS.ProcessEnv = {},
  opts: { probeUrl?: string; after?: string } = {},
): Promise<CliProcess> {
  const file = join(dir, "freeze.yaml");
  await writeFile(
    file,
    `version: 1
title: the target is frozen for ${duration}
steady-state:
  probes:
    - name: target answers
      http: { url: "${opts.probeUrl ?? `${target.url}/health`}", timeout: ${opts.probeUrl ? "10s" : "1s"} }
      tolerance: { status: 200 }
  during: none
${opts.after ?? ""}
method:
  - action: process.suspend
    target: { pid-file: "${target.pidFile}" }
    duration: ${duration}
`,
  );
  cli = startCli(["run", file, "--ledger", ledger(), "--journal", journalPath(), "--no-reports"], {
    timeoutMs: 25_000,
    env,
  });
  return cli;
}

/** Starts a freezing run and waits until the target is frozen. */
async function runUntilFrozen(duration = "30s"): Promise<CliProcess> {
  const run = await startFreezeRun(duration);
  await target.waitForState(isStopped, 10_000).catch((err: Error) => {
    throw new Error(`${err.message}\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`);
  });
  return run;
}

describe.each(["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const)(
  "chaos run interrupted by %s mid-fault",
  (signal) => {
    it("resumes the target, exits 3 and journals an aborted run with the revert", async () => {
      const run = await runUntilFrozen();
      expect(ledgerFiles()).toHaveLength(1);
      run.child.kill(signal);
      const r = await run.result;
      expect(r.timedOut).toBe(false);
      expect(r.code, r.stderr).toBe(3);
      expect(isRunning(target.state())).toBe(true);
      expect((await target.get("/health")).status).toBe(200);
      expect(ledgerFiles()).toEqual([]);

      const j = readJournal();
      expect(j.status).toBe("aborted");
      expect(j.exitCode).toBe(3);
      expect(j.reasons[0]).toContain(`received ${signal}`);
      expect(j.aborted?.reason).toContain(signal);
      expect(j.faults).toHaveLength(1);
      expect(j.faults[0]!.appliedAt).not.toBe("");
      expect(j.faults[0]!.revertedAt).toBeDefined();
      expect(j.rollbacks).toHaveLength(1);
      expect(j.rollbacks[0]).toMatchObject({
        source: "automatic",
        status: "succeeded",
        description: expect.stringContaining(`resume pid ${target.pid}`),
      });
      expect(j.method[0]).toMatchObject({ ref: "process.suspend", status: "aborted" });
      expect(r.stdout).toContain("ABORTED");
    });
  },
);

describe("chaos run signalled twice, or late", () => {
  it("survives a second Ctrl-C 20 ms after the first and still writes its journal, exit 3", async () => {
    const run = await runUntilFrozen();
    run.child.kill("SIGINT");
    await new Promise((res) => setTimeout(res, 20));
    run.child.kill("SIGINT");
    const r = await run.result;
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(3);
    expect(existsSync(`${journalPath()}.tmp`)).toBe(false);
    expect(readJournal()).toMatchObject({ status: "aborted", exitCode: 3 });
    expect(isRunning(target.state())).toBe(true);
    expect(ledgerFiles()).toEqual([]);
  });

  it("exits 3 when signals cut a recovery check short after its deadline, as aborted and not blind", async () => {
    // A health endpoint that answers at once until the test holds its answers back.
    let hold = false;
    let held = 0;
    const health = createServer((_req, res) => {
      if (!hold) return void res.writeHead(200).end("ok");
      held++;
    });
    await new Promise<void>((r) => health.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(health.address() as { port: number }).port}/health`;
      const run = await startFreezeRun("2s", {}, { probeUrl: url, after: "  after: { within: 300ms }" });
      // Held from while the target is frozen: the recovery check starts only after the resume, so it is
      // certainly held (waiting for the "↺ resume" line raced the check itself on a busy machine).
      await target.waitForState(isStopped, 10_000);
      hold = true;
      await expect.poll(() => run.stdout(), { timeout: 10_000, interval: 5 }).toContain("↺ resume");
      // The recovery check is in flight (held), and its 300 ms deadline passes before the signals come.
      await expect.poll(() => held, { timeout: 10_000, interval: 5 }).toBeGreaterThan(0);
      await new Promise((res) => setTimeout(res, 600));
      run.child.kill("SIGTERM");
      await new Promise((res) => setTimeout(res, 20));
      run.child.kill("SIGTERM");
      const r = await run.result;
      expect(r.signal).toBeNull();
      expect(existsSync(`${journalPath()}.tmp`)).toBe(false);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      const j = readJournal();
      expect(j).toMatchObject({ status: "aborted", exitCode: 3 });
      expect(j.reasons.join("\n")).not.toMatch(/could not judge/);
      expect(isRunning(target.state())).toBe(true);
      expect(ledgerFiles()).toEqual([]);
    } finally {
      health.closeAllConnections();
      await new Promise<void>((r) => health.close(() => r()));
    }
  });
});

describe("chaos run forced out by a third signal", () => {
  it("exits 3 at once and leaves what it did not revert to chaos rollback", async () => {
    // The revert hangs (its Toxiproxy holds the DELETE unanswered, 60 s deadline), so the run is certainly
    // still rolling back when the third signal comes: the forced exit is the one outcome.
    const real = await realToxiproxy();
    const hostile = await front(real, "hang", isDeleteToxic, false);
    try {
      const file = join(dir, "latency.yaml");
      await writeFile(
        file,
        `version: 1
title: latency whose revert hangs
configuration:
  toxiproxy: { url: "${hostile.url}", timeout: 60s }
method:
  - action: toxiproxy.latency
    target: { proxy: app }
    args: { latency: 100ms }
    duration: 30s
`,
      );
      cli = startCli(["run", file, "--ledger", ledger(), "--journal", journalPath(), "--no-reports"], {
        timeoutMs: 50_000,
      });
      const run = cli;
      await expect
        .poll(() => toxicsOn(real), { timeout: 30_000, interval: 20, message: "the fault is live" })
        .toBe(1)
        .catch((err: Error) => {
          throw new Error(`${err.message}\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`);
        });
      await expect.poll(() => ledgerFiles().length, { timeout: 10_000, interval: 20 }).toBe(1);
      // Each signal once the run has taken the one before (signals sent at once could merge into one).
      run.child.kill("SIGINT");
      await expect
        .poll(() => hostile.seen.filter((r) => r.startsWith("DELETE ")).length, { timeout: 10_000 })
        .toBe(1);
      run.child.kill("SIGINT");
      await expect
        .poll(() => run.stdout(), { timeout: 10_000, interval: 20 })
        .toContain("rolling back — wait");
      run.child.kill("SIGINT");
      const r = await run.result;
      expect(r.timedOut).toBe(false);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stdout).toContain("forced exit: faults may remain; run `chaos rollback`");
      expect(existsSync(journalPath())).toBe(false);
      // Left as it was: the toxic on the proxy, its entry in the ledger.
      expect(await toxicsOn(real)).toBe(1);
      expect(ledgerFiles()).toHaveLength(1);

      hostile.turn("healthy");
      const rb = await runCli(["rollback", "--ledger", ledger()]);
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
      expect(await toxicsOn(real)).toBe(0);
      expect(ledgerFiles()).toEqual([]);
      const locks = join(ledger(), "locks");
      expect(existsSync(locks) ? readdirSync(locks) : []).toEqual([]);
    } finally {
      await hostile.close();
      await real.close();
    }
  }, 60_000);
});

describe("chaos run killed with SIGKILL mid-fault", () => {
  it("leaves the fault in the ledger, and chaos rollback reverts it once", async () => {
    const run = await runUntilFrozen();
    run.child.kill("SIGKILL");
    const r = await run.result;
    expect(r.signal).toBe("SIGKILL");
    // Nobody reverted it: the target stays frozen and the ledger still names the fault.
    await new Promise((res) => setTimeout(res, 200));
    expect(target.state()).toBe("T");
    const entries = ledgerFiles();
    expect(entries).toHaveLength(1);
    const entry = JSON.parse(readFileSync(join(ledger(), entries[0]!), "utf8"));
    expect(entry).toMatchObject({ pid: run.pid, revert: { agent: "process", kind: "resume" } });
    expect(existsSync(journalPath())).toBe(false);

    const first = await runCli(["rollback", "--ledger", ledger()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`resume pid ${target.pid}`);
    await target.waitForState(isRunning, 5000);
    expect((await target.get("/health")).status).toBe(200);
    expect(await target.conts()).toBe(1);
    expect(ledgerFiles()).toEqual([]);

    const second = await runCli(["rollback", "--ledger", ledger()]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("nothing to roll back");
    expect(await target.conts()).toBe(1);
    expect(isRunning(target.state())).toBe(true);
  });
});

describe("chaos run whose stdout reader goes away mid-fault", () => {
  it("still resumes the target, journals the run and exits with its verdict", async () => {
    const run = await runUntilFrozen("3s");
    // As `chaos run … | head -3` does: the next progress line meets a closed pipe (EPIPE).
    run.child.stdout!.destroy();
    const r = await run.result;
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(isRunning(target.state())).toBe(true);
    expect(ledgerFiles()).toEqual([]);
    const j = readJournal();
    expect(j.status).toBe("held");
    expect(j.faults[0]!.revertedAt).toBeDefined();
    expect(j.rollbacks).toMatchObject([{ source: "automatic", status: "succeeded" }]);
  });
});

describe("chaos run crashing mid-fault", () => {
  it("reverts the fault from the ledger, exits 4 and leaves the ledger empty", async () => {
    // The preload throws inside the run only once the target is frozen, so its message proves the fault was live.
    const run = await startFreezeRun("30s", {
      NODE_OPTIONS: `--require ${join(ROOT, "test", "support", "crash-when-frozen.cjs")}`,
      CHAOS_TEST_CRASH_WHEN_FROZEN: target.pidFile,
    });
    const r = await run.result;
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain("injected crash");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(isRunning(await target.waitForState(isRunning, 5_000))).toBe(true);
    expect((await target.get("/health")).status).toBe(200);
    expect(ledgerFiles()).toEqual([]);
  });
});

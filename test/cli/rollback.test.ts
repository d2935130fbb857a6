import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readStat } from "../../src/agents/process/proc.js";
import { ensureCliBuilt, runCli, startCli } from "../support/cli.js";
import { deadPidFile, startTarget, type Target } from "../support/target.js";

let dir: string;
let target: Target;

beforeAll(ensureCliBuilt, 180_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-rollback-"));
  target = await startTarget();
});
afterEach(async () => {
  await target.stop();
  await rm(dir, { recursive: true, force: true });
});

const isRunning = (s: string | undefined) => s !== undefined && s !== "T" && s !== "t";

/** Freezes the target by hand and writes the ledger entry a killed run would have left for it. */
async function frozenTargetEntry(ledger: string, run: { pid: number; pidStartTime?: number }) {
  const stat = (await readStat(target.pid))!;
  process.kill(target.pid, "SIGSTOP");
  await target.waitForState((s) => s === "T", 5000);
  await mkdir(ledger, { recursive: true });
  const entry = {
    runId: "20260101-000000-abcdef",
    ...run,
    experiment: "freeze",
    step: "suspend",
    recordedAt: new Date().toISOString(),
    revert: {
      agent: "process",
      kind: "resume",
      description: `resume pid ${target.pid} (node)`,
      data: { processes: [{ pid: target.pid, startTime: stat.startTime, comm: stat.comm }] },
    },
  };
  await writeFile(join(ledger, "20260101-000000-abcdef-1-aaaaaa.json"), JSON.stringify(entry));
  return entry;
}

async function deadPid(): Promise<number> {
  return Number(await readFile(await deadPidFile(dir), "utf8"));
}

describe("chaos rollback", () => {
  it("keeps an entry for an agent it does not know, says so, and still reverts the other, exit 4", async () => {
    const ledger = join(dir, "ledger");
    const valid = await frozenTargetEntry(ledger, { pid: await deadPid() });
    const unknown = {
      ...valid,
      runId: "20260101-000000-fedcba",
      revert: { agent: "gone-agent", kind: "undo", description: "undo what gone-agent did", data: {} },
    };
    const unknownFile = "20260101-000000-fedcba-1-bbbbbb.json";
    await writeFile(join(ledger, unknownFile), JSON.stringify(unknown));

    const r = await runCli(["rollback", "--ledger", ledger]);
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toContain(`↺ resume pid ${target.pid}`);
    expect(isRunning(await target.waitForState(isRunning, 5000))).toBe(true);
    expect(r.stdout.split('unknown agent "gone-agent"')).toHaveLength(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // The entry stays for a build that knows its agent; the reverted one is gone.
    expect(readdirSync(ledger).filter((f) => f.endsWith(".json"))).toEqual([unknownFile]);
  });

  it("reports each malformed entry, reverts the valid one, and exits 4", async () => {
    const ledger = join(dir, "ledger");
    const valid = await frozenTargetEntry(ledger, { pid: await deadPid() });
    const bad = {
      "empty.json": "{}",
      "null.json": "null",
      "revert-null.json": JSON.stringify({ ...valid, revert: null }),
      "bad-json.json": "{ not json",
      "pid-wrong-type.json": JSON.stringify({ ...valid, pid: [1] }),
    };
    for (const [name, text] of Object.entries(bad)) await writeFile(join(ledger, name), text);

    const r = await runCli(["rollback", "--ledger", ledger]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).not.toContain("Cannot read properties");
    expect(r.stdout).toContain(`ledger: ${ledger}`);
    expect(r.stdout).toContain(`↺ resume pid ${target.pid}`);
    expect(isRunning(await target.waitForState(isRunning, 5000))).toBe(true);
    for (const name of Object.keys(bad))
      expect(r.stdout).toContain(`malformed ledger entry ${join(ledger, name)}:`);
    expect(r.stdout).toContain("revert must be an object");
    expect(r.stdout).toContain("5 ledger entries could not be reverted or read");
    // The bad files stay for a person to inspect; the reverted entry is gone.
    expect(readdirSync(ledger).sort()).toEqual(Object.keys(bad).sort());
  });

  it("reverts the entry beside a FIFO planted in the ledger, reports the FIFO, and never blocks on it", async () => {
    const ledger = join(dir, "ledger");
    await frozenTargetEntry(ledger, { pid: await deadPid() });
    execFileSync("mkfifo", [join(ledger, "stuck.json")]);
    const r = await runCli(["rollback", "--ledger", ledger], { timeoutMs: 15_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).toContain(`↺ resume pid ${target.pid}`);
    expect(r.stdout).toContain(`malformed ledger entry ${join(ledger, "stuck.json")}: cannot read`);
    expect(r.stdout).toContain("it is a FIFO");
    expect(isRunning(await target.waitForState(isRunning, 5000))).toBe(true);
  });

  it("treats a run whose pid now names another process as dead, and reverts its faults", async () => {
    const ledger = join(dir, "ledger");
    // The pid is alive, but it is the target's, started at another time than the recorded run.
    const stat = (await readStat(target.pid))!;
    await frozenTargetEntry(ledger, { pid: target.pid, pidStartTime: stat.startTime + 1 });
    const r = await runCli(["rollback", "--ledger", ledger]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`↺ resume pid ${target.pid}`);
    expect(isRunning(await target.waitForState(isRunning, 5000))).toBe(true);
  });

  it("leaves the faults of a run that is still alive (same pid and start time) unless forced", async () => {
    const ledger = join(dir, "ledger");
    const stat = (await readStat(target.pid))!;
    await frozenTargetEntry(ledger, { pid: target.pid, pidStartTime: stat.startTime });
    const r = await runCli(["rollback", "--ledger", ledger]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("still in progress");
    expect(target.state()).toBe("T");
    const forced = await runCli(["rollback", "--ledger", ledger, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(isRunning(await target.waitForState(isRunning, 5000))).toBe(true);
  });

  it("finds, from another directory, what a killed run left in the per-user state folder", async () => {
    const home = join(dir, "home");
    const env = { HOME: home, XDG_STATE_HOME: "" };
    await mkdir(join(dir, "a"));
    await mkdir(join(dir, "b"));
    await writeFile(
      join(dir, "a", "freeze.yaml"),
      `version: 1
title: the target is frozen
method:
  - action: process.suspend
    target: { pid-file: "${target.pidFile}" }
    duration: 30s
`,
    );
    const run = startCli(["run", "freeze.yaml", "--no-reports"], { cwd: join(dir, "a"), env });
    await target.waitForState((s) => s === "T", 10_000);
    run.child.kill("SIGKILL");
    await run.result;
    const state = join(home, ".local", "state", "chaoskit", "ledger");
    expect(readdirSync(state).filter((f) => f.endsWith(".json"))).toHaveLength(1);
    expect(readdirSync(join(state, "locks"))).toHaveLength(1);

    const r = await runCli(["rollback"], { cwd: join(dir, "b"), env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ledger: ${state}`);
    expect(r.stdout).toContain(`↺ resume pid ${target.pid}`);
    expect(isRunning(await target.waitForState(isRunning, 5000))).toBe(true);
    expect(readdirSync(state).filter((f) => f.endsWith(".json"))).toEqual([]);
    // The killed run's lease on the target went with the fault it guarded.
    expect(readdirSync(join(state, "locks"))).toEqual([]);
  });
});

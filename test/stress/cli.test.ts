import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readStat } from "../../src/agents/process/proc.js";
import { CLI, type CliProcess, ensureCliBuilt, runCli, startCli, stopCli } from "../support/cli.js";

beforeAll(ensureCliBuilt, 180_000);

let dir: string;
let run: CliProcess | undefined;
const pids: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-stress-cli-"));
});
afterEach(async () => {
  await stopCli(run);
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  ms: number,
  get: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\n${run?.stderr() ?? ""}`);
    await sleep(50);
  }
}

const alive = async (pid: number) => {
  const s = await readStat(pid);
  return s !== undefined && s.state !== "Z";
};

/** Starts `chaos run` on one stress step and waits until the ledger names the stressor's pid. */
async function runUntilStressing(
  step: string,
): Promise<{ stressor: number; ledger: string; data: Record<string, unknown> }> {
  const file = join(dir, "stress.yaml");
  await writeFile(
    file,
    `version: 1
title: stress until killed
method:
  - name: stress
${step}
    duration: 60s
`,
  );
  const ledger = join(dir, "ledger");
  run = startCli(["run", file, "--ledger", ledger, "--journal", join(dir, "run", "journal.json")], {
    timeoutMs: 60_000,
  });
  const data = await until("the ledger names the stressor", 30_000, () => {
    const files = existsSync(ledger) ? readdirSync(ledger).filter((f) => f.endsWith(".json")) : [];
    for (const f of files) {
      const entry = JSON.parse(readFileSync(join(ledger, f), "utf8")) as {
        revert: { data: Record<string, unknown> };
      };
      if (typeof entry.revert.data.pid === "number") return entry.revert.data;
    }
    return undefined;
  });
  const stressor = data.pid as number;
  pids.push(stressor);
  return { stressor, ledger, data };
}

describe("a stressor is a dead man's switch", () => {
  it("stops by itself when its run is SIGKILLed, and chaos rollback then finds nothing left", async () => {
    const { stressor, ledger } = await runUntilStressing(`    action: stress.cpu
    args: { workers: 1, load: 20 }`);
    expect(await alive(stressor)).toBe(true);
    run!.child.kill("SIGKILL");
    await run!.result;
    await until("the stressor stops once its run is gone", 5_000, async () => !(await alive(stressor)));
    const rollback = await runCli(["rollback", "--ledger", ledger]);
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toMatch(/↺ stop burning 1 CPU worker at 20% on the host/);
    expect(readdirSync(ledger).filter((f) => f.endsWith(".json"))).toEqual([]);
  }, 90_000);

  it("leaves a fill file only until chaos rollback, when the run and its stressor were both SIGKILLed", async () => {
    const fill = join(dir, "fill");
    await import("node:fs/promises").then((fs) => fs.mkdir(fill));
    const { stressor, ledger, data } = await runUntilStressing(`    action: stress.disk
    args: { path: "${fill}", size: 2Mi }`);
    const file = data.file as string;
    expect(file.startsWith(join(fill, ".chaoskit-fill-"))).toBe(true);
    await until("the fill file is written", 10_000, () => existsSync(file));
    process.kill(stressor, "SIGKILL");
    run!.child.kill("SIGKILL");
    await run!.result;
    await until("the stressor is gone", 5_000, async () => !(await alive(stressor)));
    expect(existsSync(file)).toBe(true);
    const rollback = await runCli(["rollback", "--ledger", ledger]);
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain(`and remove ${file}`);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(fill)).toEqual([]);
  }, 90_000);

  it("stops at its deadline, and when its standard input closes", async () => {
    const started = Date.now();
    const timed = await runCli(["stress", "cpu", "--for", "1s", "--load", "10"], { timeoutMs: 15_000 });
    expect(timed.code).toBe(0);
    expect(timed.stdout).toContain('"why":"deadline"');
    expect(Date.now() - started).toBeLessThan(12_000);
    const tied = spawn(
      process.execPath,
      [CLI, "stress", "memory", "--size", "8Mi", "--for", "60s", "--tied"],
      {
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    pids.push(tied.pid!);
    let out = "";
    tied.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    const exited = new Promise<number | null>((done) => tied.once("exit", (code) => done(code)));
    await until("ready", 15_000, () => out.includes('"ready"'));
    await sleep(300);
    expect(await alive(tied.pid!)).toBe(true);
    tied.stdin.end();
    expect(await exited).toBe(0);
    expect(out).toContain('"why":"the run is gone"');
  }, 60_000);
});

import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readStat } from "../../src/agents/process/proc.js";
import { ensureCliBuilt, runCli, startCli } from "../support/cli.js";

/** A service that, on SIGTERM, notes it and exits a second later, as a graceful shutdown does. */
const SERVICE = `
const fs = require("node:fs");
const [pidFile, termFile] = process.argv.slice(1);
fs.writeFileSync(pidFile, String(process.pid));
process.on("SIGTERM", () => {
  fs.writeFileSync(termFile, String(process.pid));
  setTimeout(() => process.exit(0), 1000);
});
setInterval(() => {}, 1000);
`;

let dir: string;
beforeAll(ensureCliBuilt, 180_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-restart-crash-"));
});
afterEach(async () => {
  const pidFile = join(dir, "service.pid");
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

const alive = async (pid: number) => {
  const s = await readStat(pid);
  return s !== undefined && s.state !== "Z" && s.state !== "X";
};

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("chaos run killed between the stop and the start of process.restart", () => {
  it("is recovered by chaos rollback, which starts the service again", async () => {
    const pidFile = join(dir, "service.pid");
    const termFile = join(dir, "term");
    const argv = [process.execPath, "-e", SERVICE, pidFile, termFile];
    const first = spawn(argv[0]!, argv.slice(1), { stdio: "ignore", detached: true });
    first.unref();
    await until(() => existsSync(pidFile));
    const firstPid = first.pid!;
    const file = join(dir, "restart.yaml");
    await writeFile(
      file,
      `version: 1
title: the service restarts
method:
  - action: process.restart
    target: { pid-file: "${pidFile}", start: ${JSON.stringify(argv)} }
    args: { grace: 5s }
`,
    );
    const ledger = join(dir, "ledger");
    const tmpBefore = new Set(readdirSync(tmpdir()));
    const run = startCli(["run", file, "--ledger", ledger, "--journal", join(dir, "j", "journal.json")]);
    // The stop is under way: kill the run before it can start the service again.
    await until(() => existsSync(termFile));
    run.child.kill("SIGKILL");
    await run.result;
    await until(async () => !(await alive(firstPid)));
    // The service is down and nothing started it again.
    expect(Number(readFileSync(pidFile, "utf8"))).toBe(firstPid);
    expect(readdirSync(ledger).filter((f) => f.endsWith(".json"))).toHaveLength(1);

    const rb = await runCli(["rollback", "--ledger", ledger]);
    expect(rb.code, rb.stdout).toBe(0);
    expect(rb.stdout).toContain("↺ start node again unless it runs");
    await until(() => Number(readFileSync(pidFile, "utf8")) !== firstPid);
    expect(await alive(Number(readFileSync(pidFile, "utf8")))).toBe(true);
    expect(readdirSync(ledger).filter((f) => f.endsWith(".json"))).toEqual([]);
    expect(readdirSync(join(ledger, "locks"))).toEqual([]);
    expect(
      [...readdirSync(tmpdir())].filter((f) => !tmpBefore.has(f) && f.startsWith("chaoskit-restart")),
    ).toEqual([]);

    // Once it runs, a second rollback starts nothing.
    const again = await runCli(["rollback", "--ledger", ledger]);
    expect(again.stdout).toContain("nothing to roll back");
  });
});

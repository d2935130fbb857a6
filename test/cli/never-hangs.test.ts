import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";

let dir: string;
let target: Target;

beforeAll(ensureCliBuilt, 180_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-never-hangs-"));
  target = await startTarget();
});
afterEach(async () => {
  await target.stop();
  await rm(dir, { recursive: true, force: true });
});

/** An experiment that would freeze the target: it must never run when an output path is refused. */
async function freeze(): Promise<string> {
  const file = join(dir, "freeze.yaml");
  await writeFile(
    file,
    `version: 1\ntitle: freeze\nmethod:\n  - action: process.suspend\n    target: { pid-file: "${target.pidFile}" }\n    duration: 5s\n`,
  );
  return file;
}

/** A refusal said once, located, in bounded time, with no stack trace. */
function expectRefused(r: Awaited<ReturnType<typeof runCli>>, ...parts: string[]): void {
  expect(r.timedOut, "the process had to be killed").toBe(false);
  expect(r.code, r.stderr).toBe(2);
  for (const part of parts) expect(r.stderr).toContain(part);
  expect(r.stderr.match(/error:/g) ?? []).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

async function journal(): Promise<string> {
  const r = await runCli(["run", join(dir, "pause.yaml"), "--ledger", join(dir, "ledger")], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const path = /journal: (\S+)/.exec(r.stdout)?.[1];
  return join(dir, path!);
}

describe("chaos never spins or hangs on a path it cannot use", () => {
  it.each([
    ["/proc/self/x/journal.json", "cannot write the journal in /proc/self/x"],
    ["/sys/kernel/x.json", "cannot write the journal in /sys/kernel"],
  ])("refuses --journal %s before injecting anything (exit 2)", async (path, message) => {
    const r = await runCli(["run", await freeze(), "--ledger", join(dir, "ledger"), "--journal", path], {
      cwd: dir,
      timeoutMs: 15_000,
    });
    expectRefused(r, message);
    expect(await target.conts()).toBe(0);
  });

  it("refuses chaos report --out in a folder that cannot be made (exit 2)", async () => {
    await writeFile(join(dir, "pause.yaml"), "version: 1\ntitle: a pause\nmethod:\n  - pause: 10ms\n");
    const j = await journal();
    const r = await runCli(["report", j, "--out", "/proc/1/x"], { timeoutMs: 15_000 });
    expectRefused(r, "cannot write the reports in /proc/1/x");
  });

  it("refuses a FIFO given as --var-file or as a journal to report, without reading it", async () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const vars = await runCli(["run", await freeze(), "--var-file", fifo, "--ledger", join(dir, "ledger")], {
      cwd: dir,
      timeoutMs: 15_000,
    });
    expectRefused(vars, `--var-file ${fifo}`, "it is a FIFO");
    expect(await target.conts()).toBe(0);
    const report = await runCli(["report", fifo], { timeoutMs: 15_000 });
    expectRefused(report, `cannot read journal ${fifo}`, "it is a FIFO");
  });

  it("never writes a combined report through a symlink planted in the --out folder", async () => {
    await writeFile(join(dir, "pause.yaml"), "version: 1\ntitle: a pause\nmethod:\n  - pause: 10ms\n");
    const a = await journal();
    const b = await journal();
    const out = join(dir, "out");
    await mkdir(out);
    const victim = join(dir, "victim.txt");
    await writeFile(victim, "untouched\n");
    await symlink(victim, join(out, "summary.md"));
    const r = await runCli(["report", a, b, "--out", out], { timeoutMs: 15_000 });
    expectRefused(r, `${join(out, "summary.md")}: it is a symbolic link`);
    expect(readFileSync(victim, "utf8")).toBe("untouched\n");
  });
});

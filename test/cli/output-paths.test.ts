import { spawn } from "node:child_process";
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { CLI, ensureCliBuilt, runCli } from "../support/cli.js";

let dir: string;

beforeAll(ensureCliBuilt, 180_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-outputs-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function experiment(): Promise<string> {
  const file = join(dir, "experiment.yaml");
  await writeFile(file, "version: 1\ntitle: a short pause\nmethod:\n  - pause: 10ms\n");
  return file;
}

const run = async (journal: string, ...extra: string[]) =>
  runCli(["run", await experiment(), "--ledger", join(dir, "ledger"), "--journal", journal, ...extra], {
    cwd: dir,
  });

/** A refused output path: exit 2, a message naming it, and the run never started. */
function expectRefused(r: Awaited<ReturnType<typeof run>>, path: string, kind: string): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toContain(`${path}: it is ${kind}`);
  expect(r.stdout).not.toContain("▶");
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("the files chaos run writes", () => {
  it("writes one file's journal, log and reports into --out DIR, and nothing under .chaos/runs", async () => {
    const out = join(dir, "artifacts");
    const r = await runCli(["run", await experiment(), "--ledger", join(dir, "ledger"), "--out", out], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      "journal.json",
      "junit.xml",
      "report.html",
      "report.md",
      "run.log",
    ]);
    expect((JSON.parse(readFileSync(join(out, "journal.json"), "utf8")) as Journal).status).toBe("completed");
    expect(existsSync(join(dir, ".chaos", "runs"))).toBe(false);
    expect(r.stdout).toContain(`journal: ${join(out, "journal.json")}`);
  });

  it("refuses a journal that is a symlink, and leaves the file it points to alone", async () => {
    const victim = join(dir, "victim.txt");
    await writeFile(victim, "keep me");
    const link = join(dir, "journal.json");
    await symlink(victim, link);
    expectRefused(await run(link), link, "a symbolic link");
    expect(readFileSync(victim, "utf8")).toBe("keep me");
    expect(readlinkSync(link)).toBe(victim);
  });

  it("refuses a device as the journal (it would replace /dev/null)", async () => {
    expectRefused(await run("/dev/null"), "/dev/null", "a device");
    expect(lstatSync("/dev/null").isCharacterDevice()).toBe(true);
  });

  it("refuses an existing folder before the run, not after it", async () => {
    const folder = join(dir, "a-folder");
    await mkdir(folder);
    expectRefused(await run(folder), folder, "a folder");
  });

  it("refuses a report path that is a symlink before the run", async () => {
    const out = join(dir, "out");
    await mkdir(out);
    await symlink(join(dir, "elsewhere.md"), join(out, "report.md"));
    expectRefused(await run(join(out, "journal.json")), join(out, "report.md"), "a symbolic link");
    expect(existsSync(join(dir, "elsewhere.md"))).toBe(false);
  });

  it("streams the journal to stdout with --journal -, the progress lines on stderr", async () => {
    const r = await run("-");
    expect(r.code, r.stderr).toBe(0);
    const journal = JSON.parse(r.stdout) as Journal;
    expect(journal).toMatchObject({ exitCode: 0, experiment: { title: "a short pause" } });
    expect(r.stderr).toContain("verdict:");
    expect(readdirSync(dir).sort()).toEqual(["experiment.yaml"]);
  });

  it("keeps the verdict and the journal when stderr cannot be written (2>/dev/full)", async () => {
    const file = await experiment();
    const journal = join(dir, "runs", "journal.json");
    const full = openSync("/dev/full", "w");
    try {
      const code = await new Promise<number | null>((done, fail) => {
        const child = spawn(
          process.execPath,
          [CLI, "--log-level", "trace", "run", file, "--ledger", join(dir, "ledger"), "--journal", journal],
          { cwd: dir, stdio: ["ignore", "ignore", full], env: { ...process.env, NO_COLOR: "1" } },
        );
        child.once("error", fail);
        child.once("close", done);
      });
      expect(code).toBe(0);
    } finally {
      closeSync(full);
    }
    expect(JSON.parse(readFileSync(journal, "utf8"))).toMatchObject({ exitCode: 0 });
  });
});

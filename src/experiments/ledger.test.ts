import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultLedgerDir, Ledger } from "./ledger.js";
import { currentRun, isRunAlive } from "./run-identity.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-ledger-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const revert = { agent: "process", kind: "resume", description: "resume pid 1", data: {} };

describe("the default ledger folder", () => {
  it("is $CHAOS_LEDGER when set", () => {
    expect(defaultLedgerDir({ CHAOS_LEDGER: "/srv/ledger", XDG_STATE_HOME: "/x" })).toBe("/srv/ledger");
  });

  it("is under $XDG_STATE_HOME, else ~/.local/state, whatever the working directory", () => {
    expect(defaultLedgerDir({ XDG_STATE_HOME: "/var/state" })).toBe("/var/state/chaoskit/ledger");
    expect(defaultLedgerDir({})).toBe(join(homedir(), ".local", "state", "chaoskit", "ledger"));
    // The XDG spec says a relative value is to be ignored.
    expect(defaultLedgerDir({ XDG_STATE_HOME: "state" })).toBe(
      join(homedir(), ".local", "state", "chaoskit", "ledger"),
    );
  });
});

describe("ledger entries", () => {
  it("record the run's pid, start time and boot id", async () => {
    const ledger = new Ledger(dir);
    const entry = await ledger.record({ runId: "r", experiment: "e", step: "s", revert });
    expect(entry).toMatchObject(await currentRun());
    expect(entry.pidStartTime).toEqual(expect.any(Number));
    expect(entry.bootId).toEqual(expect.any(String));
    expect((await ledger.entries()).entries).toEqual([entry]);
  });

  it("that are malformed are reported with what is wrong, and the others still listed", async () => {
    const ledger = new Ledger(dir);
    const good = await ledger.record({ runId: "r", experiment: "e", step: "s", revert });
    const bad: Record<string, string> = {
      "empty.json": "{}",
      "null.json": "null",
      "revert-null.json": JSON.stringify({ ...good, revert: null }),
      "bad-json.json": "{ not json",
      "pid-string.json": JSON.stringify({ ...good, pid: "42" }),
      "revert-data.json": JSON.stringify({ ...good, revert: { ...revert, data: [] } }),
    };
    for (const [name, text] of Object.entries(bad)) await writeFile(join(dir, name), text);
    const { entries, malformed } = await ledger.entries();
    expect(entries).toEqual([good]);
    const problems = Object.fromEntries(malformed.map((m) => [m.file.slice(dir.length + 1), m.problem]));
    expect(problems).toEqual({
      "empty.json": "runId must be a run id (missing)",
      "null.json": "not a ledger entry: expected an object, got null",
      "revert-null.json": "revert must be an object { agent, kind, description, data } (got null)",
      "bad-json.json": expect.stringMatching(/^not JSON: /),
      "pid-string.json": 'pid must be a positive integer (got "42")',
      "revert-data.json": "revert.data must be an object (got [])",
    });
  });
});

describe("unfinished ledger writes", () => {
  it("are removed when their writer is dead, and kept while it lives", async () => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await once(child, "exit");
    const ledger = new Ledger(dir);
    await writeFile(join(dir, `a.json.${child.pid}.tmp`), "{ half");
    await writeFile(join(dir, `b.json.${process.pid}.tmp`), "{ half");
    expect(await ledger.sweepUnfinished()).toEqual([join(dir, `a.json.${child.pid}.tmp`)]);
    expect(await readdir(dir)).toEqual([`b.json.${process.pid}.tmp`]);
  });
});

describe("a run's identity", () => {
  it("is alive only while pid, start time and boot all match", async () => {
    const self = await currentRun();
    expect(await isRunAlive(self)).toBe(true);
    expect(await isRunAlive({ ...self, pidStartTime: (self.pidStartTime ?? 0) + 1 })).toBe(false);
    expect(await isRunAlive({ ...self, bootId: "another-boot" })).toBe(false);
    expect(await isRunAlive({ pid: 2 ** 22 + 1 })).toBe(false);
    // Recorded by a version that kept the pid alone: the pid decides.
    expect(await isRunAlive({ pid: process.pid })).toBe(true);
  });
});

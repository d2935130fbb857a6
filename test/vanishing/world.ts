import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Journal } from "../../src/experiments/journal.js";
import { CLI, startCli } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";

/**
 * The "vanishing world": the ground a run stands on goes away while its fault is live — its output folder
 * is removed, its disk fills up, its terminal closes. Whatever goes, the fault must be reverted, a verdict or
 * an error said once, and the process gone within GONE_WITHIN_MS of the event.
 */
export const GONE_WITHIN_MS = 10_000;

export interface VanishingOutcome {
  name: string;
  /** The target answered again after the run (its suspension was lifted). */
  reverted: boolean;
  /** Ledger entries the run left behind. */
  ledgerLeft: number;
  /** From the moment the world vanished to the moment the process was gone; Infinity if it never went. */
  goneMs: number;
  /** The journal the run wrote, wherever it went, or undefined. */
  journal?: Journal;
  /** How many times the run said what it could not do (the warning or error line), for "said once". */
  said: number;
  /** Everything the run printed on stderr, for a failure's message. */
  stderr: string;
}

export interface VanishingCase {
  name: string;
  /** Why this case cannot run here (no tmux, mount refused), or undefined when it can. */
  unavailable(): string | undefined;
  run(): Promise<VanishingOutcome>;
}

const FAULT = "4s";

function experiment(target: Target, file: string): Promise<void> {
  return writeFile(
    file,
    `version: 1
title: the target is frozen while the world vanishes
steady-state:
  probes:
    - name: target answers
      http: { url: "${target.url}/health", timeout: 2s }
      tolerance: { status: 200 }
  during: none
method:
  - action: process.suspend
    target: { pid-file: "${target.pidFile}" }
    duration: ${FAULT}
`,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readProc(pid));
const readProc = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return "";
  }
};

async function goneAfter(pid: number, since: number): Promise<number> {
  while (alive(pid)) {
    if (Date.now() - since > GONE_WITHIN_MS * 2) return Number.POSITIVE_INFINITY;
    await sleep(50);
  }
  return Date.now() - since;
}

function readJournalAt(path: string | undefined): Journal | undefined {
  try {
    return path ? (JSON.parse(readFileSync(path, "utf8")) as Journal) : undefined;
  } catch {
    return undefined;
  }
}

/** The world a case builds: a target, a work folder, a ledger and a state folder of its own. */
async function world() {
  const dir = await mkdtemp(join(tmpdir(), "chaos-vanishing-"));
  const target = await startTarget();
  const file = join(dir, "freeze.yaml");
  await experiment(target, file);
  const ledger = join(dir, "ledger");
  const state = join(dir, "state");
  const env = { XDG_STATE_HOME: state };
  const outcome = async (
    name: string,
    goneMs: number,
    stderr: string,
    said: RegExp,
    journalPath?: string,
  ): Promise<VanishingOutcome> => {
    const running = await target.waitForState((s) => s !== "T" && s !== "t", 5000).catch(() => "T");
    const answers =
      running !== "T" &&
      (await target.get("/health", 3000).then(
        () => true,
        () => false,
      ));
    const left = existsSync(ledger) ? readdirSync(ledger).filter((f) => f.endsWith(".json")).length : 0;
    const fallback = existsSync(join(state, "chaoskit", "runs"))
      ? readdirSync(join(state, "chaoskit", "runs")).map((r) =>
          join(state, "chaoskit", "runs", r, "journal.json"),
        )[0]
      : undefined;
    return {
      name,
      reverted: answers,
      ledgerLeft: left,
      goneMs,
      journal: readJournalAt(journalPath) ?? readJournalAt(fallback),
      said: stderr.match(new RegExp(said.source, "g"))?.length ?? 0,
      stderr,
    };
  };
  const cleanup = async () => {
    await target.stop();
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, target, file, ledger, env, outcome, cleanup };
}

/** `rm -rf` of the run's working folder (and with it the default journal folder) 2 s into the fault. */
const outputFolderRemoved: VanishingCase = {
  name: "output folder removed",
  unavailable: () => undefined,
  async run() {
    const w = await world();
    try {
      const work = join(w.dir, "work");
      await mkdir(work);
      const cli = startCli(["run", w.file, "--ledger", w.ledger], {
        cwd: work,
        env: w.env,
        timeoutMs: 60_000,
      });
      await w.target.waitForState((s) => s === "T", 20_000);
      await sleep(2000);
      const vanished = Date.now();
      await rm(work, { recursive: true, force: true });
      const r = await cli.result;
      const goneMs = r.timedOut ? Number.POSITIVE_INFINITY : Date.now() - vanished;
      return await w.outcome(this.name, goneMs, r.stderr, /cannot write the journal/);
    } finally {
      await w.cleanup();
    }
  },
};

/** A small tmpfs holds the journal folder; it is filled up 2 s into the fault. */
const diskFull: VanishingCase = {
  name: "disk full",
  unavailable() {
    if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
    return undefined;
  },
  async run() {
    const w = await world();
    const disk = join(w.dir, "disk");
    await mkdir(disk);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "chaos-vanishing", disk]);
    try {
      const journal = join(disk, "run", "journal.json");
      const cli = startCli(["run", w.file, "--ledger", w.ledger, "--journal", journal], {
        cwd: w.dir,
        env: w.env,
        timeoutMs: 60_000,
      });
      await w.target.waitForState((s) => s === "T", 20_000);
      await sleep(2000);
      const vanished = Date.now();
      await fill(join(disk, "filler"));
      const r = await cli.result;
      const goneMs = r.timedOut ? Number.POSITIVE_INFINITY : Date.now() - vanished;
      return await w.outcome(this.name, goneMs, r.stderr, /cannot write the journal/, journal);
    } finally {
      execFileSync("umount", ["-l", disk]);
      await w.cleanup();
    }
  },
};

/** Writes zeros into `file` until the file system says it is full. */
async function fill(file: string): Promise<void> {
  const fh = await open(file, "w");
  const block = Buffer.alloc(16 * 1024);
  try {
    for (let i = 0; i < 10_000; i++) await fh.write(block);
    throw new Error(`the disk never filled up (${file})`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    await fh.close();
  }
}

/** The run's terminal (a tmux session of its own) is killed 2 s into the fault: SIGHUP, then EIO. */
const terminalClosed: VanishingCase = {
  name: "terminal closed",
  unavailable() {
    try {
      execFileSync("tmux", ["-V"], { stdio: "ignore" });
      return undefined;
    } catch {
      return "tmux is not installed";
    }
  },
  async run() {
    const w = await world();
    const socket = `chaos-vanishing-${process.pid}-${Date.now()}`;
    const tmux = (...args: string[]) =>
      new Promise<string>((done, fail) =>
        execFile("tmux", ["-L", socket, ...args], { timeout: 10_000 }, (err, out) =>
          err ? fail(err) : done(out),
        ),
      );
    const journal = join(w.dir, "journal.json");
    const pidFile = join(w.dir, "cli.pid");
    const errFile = join(w.dir, "stderr");
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    // exec: the pid written is the CLI's own, and nothing else in the pane survives it.
    const command = `echo $$ > ${q(pidFile)}; exec env XDG_STATE_HOME=${q(join(w.dir, "state"))} ${q(process.execPath)} ${q(CLI)} run ${q(w.file)} --ledger ${q(w.ledger)} --journal ${q(journal)} 2>${q(errFile)}`;
    try {
      await tmux("-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40", "-c", w.dir, command);
      await w.target.waitForState((s) => s === "T", 20_000);
      const pid = Number(readFileSync(pidFile, "utf8"));
      await sleep(2000);
      const vanished = Date.now();
      await tmux("kill-server");
      const goneMs = await goneAfter(pid, vanished);
      if (Number.isFinite(goneMs) === false) process.kill(pid, "SIGKILL");
      const stderr = existsSync(errFile) ? readFileSync(errFile, "utf8") : "";
      // The terminal is gone, so the abort is said where logs go: run.log beside the journal (and stderr only
      // if a log level asks for it), once in all.
      const log = join(w.dir, "run.log");
      const said = `${stderr}\n${existsSync(log) ? readFileSync(log, "utf8") : ""}`;
      const o = await w.outcome(this.name, goneMs, said, /"msg":"run aborted"/, journal);
      return { ...o, stderr };
    } finally {
      await tmux("kill-server").catch(() => undefined);
      await w.cleanup();
    }
  },
};

export const VANISHING_CASES: VanishingCase[] = [outputFolderRemoved, diskFull, terminalClosed];

/** What is wrong with an outcome, one line per problem; empty when the case passed. */
export function problemsOf(o: VanishingOutcome): string[] {
  const problems: string[] = [];
  if (!o.reverted) problems.push("the fault was not reverted: the target does not answer");
  if (o.ledgerLeft) problems.push(`${o.ledgerLeft} ledger entries left behind`);
  if (!(o.goneMs <= GONE_WITHIN_MS))
    problems.push(`the process was not gone within ${GONE_WITHIN_MS} ms (${o.goneMs})`);
  if (!o.journal) problems.push("no journal anywhere (neither where asked nor in the state folder)");
  if (o.said !== 1) problems.push(`what happened was said ${o.said} times, not once`);
  if (/Assertion failed|\n\s+at /.test(o.stderr)) problems.push("a stack trace on stderr");
  return problems;
}

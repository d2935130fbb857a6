import { randomInt } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Journal } from "../../src/experiments/journal.js";
import { runCli, startCli } from "../support/cli.js";
import { type Interruption, PHASES, type PlannedCase, planCases } from "./plan.js";
import { type Arrangement, scenarios as allScenarios, type Scenario } from "./scenarios.js";

/**
 * The kill matrix: many runs of one small experiment (steady state → fault → pause → rollbacks → steady
 * state), each interrupted at a seeded random point of a seeded phase by SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * two signals 20 ms apart, or SIGKILL followed by `chaos rollback`. After each case nothing may remain (no
 * ledger entry, no lease, the victim healthy, no toxic) and the exit code must be the journal's.
 */
export interface MatrixOptions {
  seed?: number;
  cases?: number;
  concurrency?: number;
  /** Only these scenarios (by name); all of them when absent. */
  only?: string[];
  /** These cases instead of a seeded plan (`seed` and `cases` are then ignored). */
  plan?: PlannedCase[];
  /** Told about each case as it ends. */
  onCase?: (r: CaseResult) => void;
}

export interface CaseResult extends PlannedCase {
  code: number | null;
  signal: NodeJS.Signals | null;
  journal?: { status: string; exitCode: number };
  /** The signal was sent while the run was still going (with a long delay, a run may end first). */
  fired: boolean;
  /** From the first signal to the exit of `chaos run`. */
  exitMs?: number;
  /** `chaos rollback` after a SIGKILL. */
  rollbackMs?: number;
  faultsLeft: string[];
  wrongExit: string[];
  other: string[];
  /** Nothing was left and the exit code was the journal's. */
  passed: boolean;
}

export interface MatrixResult {
  seed: number;
  cases: CaseResult[];
  figures: {
    "cases run": number;
    /** Cases whose signal arrived while the run was still going. */
    "kill points tried": number;
    "faults left": number;
    "wrong exit codes": number;
    "other failures": number;
    /** "none" when no case of that kind ran: a figure of 0 would claim an instant exit or rollback. */
    "slowest bounded exit (ms)": number | "none";
    "slowest rollback after SIGKILL (ms)": number | "none";
  };
  ok: boolean;
}

const RUN_TIMEOUT_MS = 20_000;
/** At least this many runs must really be interrupted (the issue's bar for one CI run). */
export const MIN_KILL_POINTS = 50;

/** The seed from KILL_MATRIX_SEED, else a fresh one. */
export function matrixSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.KILL_MATRIX_SEED;
  return given && /^\d+$/.test(given) ? Number(given) : randomInt(1, 2 ** 31);
}

function experiment(c: PlannedCase, a: Arrangement): string {
  return `version: 1
title: kill matrix case ${c.index} (${c.scenario}, ${c.phase}, ${c.interruption.name})
${a.configuration ? `configuration:\n${a.configuration}\n` : ""}steady-state:
  probes:
    - name: victim answers
      http: { url: "${a.probeUrl}?delay=100", timeout: 2s }
      tolerance: { status: 200 }
  after: { within: 2s }
method:
  - name: inject
${a.fault}
  - pause: 500ms
`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

async function interrupt(pid: number, how: Interruption): Promise<void> {
  for (const [i, sig] of how.signals.entries()) {
    if (i > 0) await sleep(how.gapMs);
    try {
      process.kill(pid, sig);
    } catch {
      return; // already exited
    }
  }
}

/** Runs one case to the end and checks what it left. */
async function runCase(c: PlannedCase, scenario: Scenario): Promise<CaseResult> {
  const dir = await mkdtemp(join(tmpdir(), `chaos-killmatrix-${c.index}-`));
  const ledger = join(dir, "ledger");
  const journalPath = join(dir, "run", "journal.json");
  const result: CaseResult = {
    ...c,
    code: null,
    signal: null,
    fired: false,
    faultsLeft: [],
    wrongExit: [],
    other: [],
    passed: false,
  };
  let arrangement: Arrangement;
  try {
    arrangement = await scenario.arrange(`${process.pid}-${c.index}`);
  } catch (err) {
    result.other.push(`the ${c.scenario} victim could not be set up: ${(err as Error).message}`);
    await rm(dir, { recursive: true, force: true });
    return result;
  }
  try {
    const file = join(dir, "experiment.yaml");
    await writeFile(file, experiment(c, arrangement));
    const run = startCli(["run", file, "--ledger", ledger, "--journal", journalPath], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    const { marker } = PHASES[c.phase];
    let reached = false;
    let firedAt: number | undefined;
    const watch = () => {
      if (reached || !run.stdout().includes(marker)) return;
      reached = true;
      setTimeout(() => {
        if (run.child.exitCode !== null || run.child.signalCode !== null) return; // it ended first
        firedAt = Date.now();
        void interrupt(run.pid, c.interruption);
      }, c.delayMs);
    };
    run.child.stdout?.on("data", watch);
    const r = await run.result;
    result.code = r.code;
    result.signal = r.signal;
    if (!reached) result.other.push(`the ${c.phase} phase was not reached (exit ${r.code ?? r.signal})`);
    result.fired = firedAt !== undefined;
    if (firedAt !== undefined) result.exitMs = Date.now() - firedAt;
    if (r.timedOut) result.other.push(`chaos run did not end within ${RUN_TIMEOUT_MS} ms`);

    if (existsSync(`${journalPath}.tmp`)) result.wrongExit.push("journal.json.tmp left behind");
    const journal = existsSync(journalPath)
      ? (JSON.parse(readFileSync(journalPath, "utf8")) as Journal)
      : undefined;
    if (journal) result.journal = { status: journal.status, exitCode: journal.exitCode };
    if (r.signal === "SIGKILL" && !r.timedOut) {
      const started = Date.now();
      const rb = await runCli(["rollback", "--ledger", ledger], { timeoutMs: RUN_TIMEOUT_MS });
      result.rollbackMs = Date.now() - started;
      if (rb.code !== 0) result.faultsLeft.push(`chaos rollback exited ${rb.code}: ${rb.stdout.trim()}`);
    } else if (!journal) {
      result.wrongExit.push(`no journal; exit ${r.code ?? r.signal}`);
    } else {
      if (r.code !== journal.exitCode)
        result.wrongExit.push(`exit ${r.code ?? r.signal} but the journal says ${journal.exitCode}`);
      const reports = ["report.md", "junit.xml", "report.html"].filter(
        (f) => !existsSync(join(dir, "run", f)),
      );
      if (reports.length) result.wrongExit.push(`reports missing: ${reports.join(", ")}`);
    }

    const entries = filesIn(ledger).filter((f) => f !== "locks");
    if (entries.length) result.faultsLeft.push(`ledger entries left: ${entries.join(", ")}`);
    const leases = filesIn(join(ledger, "locks"));
    if (leases.length) result.faultsLeft.push(`lease files left: ${leases.join(", ")}`);
    result.faultsLeft.push(...(await arrangement.leftovers()));
    result.passed = result.faultsLeft.length + result.wrongExit.length + result.other.length === 0;
    if (!result.passed) result.other.push(`stdout:\n${r.stdout.slice(-1500)}`);
  } finally {
    await arrangement.dispose();
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}

/** One line per case, for logs. */
export function describeCase(r: CaseResult): string {
  const exit = `${r.signal ? r.signal : `exit ${r.code}`}${r.fired ? "" : " (ended before the signal)"}`;
  const journal = r.journal ? `journal ${r.journal.status}/${r.journal.exitCode}` : "no journal";
  const timing = `${r.exitMs ?? "-"} ms${r.rollbackMs !== undefined ? `, rollback ${r.rollbackMs} ms` : ""}`;
  const head = `${r.passed ? "✓" : "✗"} #${r.index} ${r.scenario} ${r.phase}+${r.delayMs}ms ${r.interruption.name}: ${exit}, ${journal}, ${timing}`;
  const problems = [...r.faultsLeft, ...r.wrongExit, ...r.other];
  return problems.length ? `${head}\n    ${problems.join("\n    ")}` : head;
}

/**
 * Runs the whole matrix with bounded concurrency.
 * @throws Error when a scenario cannot be set up at all.
 */
export async function runMatrix(opts: MatrixOptions = {}): Promise<MatrixResult> {
  const seed = opts.seed ?? matrixSeed();
  const scenarios = allScenarios().filter((s) => !opts.only?.length || opts.only.includes(s.name));
  const byName = new Map(scenarios.map((s) => [s.name, s]));
  const planned =
    opts.plan ??
    planCases(
      seed,
      opts.cases ?? 60,
      scenarios.map((s) => s.name),
    );
  const results: CaseResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < planned.length) {
      const c = planned[next++]!;
      const r = await runCase(c, byName.get(c.scenario)!);
      results.push(r);
      opts.onCase?.(r);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 2 }, worker));
  } finally {
    for (const s of scenarios) await s.close();
  }
  results.sort((a, b) => a.index - b.index);
  const max = (xs: (number | undefined)[]) => {
    const known = xs.filter((x): x is number => x !== undefined);
    return known.length ? Math.max(...known) : ("none" as const);
  };
  const figures = {
    "cases run": results.length,
    "kill points tried": results.filter((r) => r.fired).length,
    "faults left": results.filter((r) => r.faultsLeft.length > 0).length,
    "wrong exit codes": results.filter((r) => r.wrongExit.length > 0).length,
    "other failures": results.filter((r) => r.other.length > 0 && !r.faultsLeft.length && !r.wrongExit.length)
      .length,
    "slowest bounded exit (ms)": max(
      results.filter((r) => r.interruption.name !== "SIGKILL").map((r) => r.exitMs),
    ),
    "slowest rollback after SIGKILL (ms)": max(results.map((r) => r.rollbackMs)),
  };
  // Proof needs interruptions: only a few long-delayed cases may end before their signal.
  const enough = figures["kill points tried"] >= Math.min(MIN_KILL_POINTS, results.length - 5);
  return { seed, cases: results, figures, ok: enough && results.every((r) => r.passed) };
}

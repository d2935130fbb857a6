import { dirname, join } from "node:path";
import type { Logger } from "pino";
import type { Registry } from "../agents/registry.js";
import { observeRun } from "../telemetry/observe.js";
import { Controller, type RunEvent } from "./controller.js";
import { errorMessage } from "./errors.js";
import { type Journal, writeJournal } from "./journal.js";
import { type Ledger, stateFolder } from "./ledger.js";
import type { Experiment } from "./model.js";
import { recoverFromLedger } from "./recover.js";
import { outputRedactor } from "./redact.js";
import { writeReports } from "./report/index.js";

export interface ExecuteOptions {
  registry: Registry;
  log: Logger;
  ledger: Ledger;
  toolVersion: string;
  runId: string;
  /**
   * Where the journal goes; the reports are written beside it. Its folder must exist. Absent: the journal is
   * only returned (`--journal -` prints it), and no reports are written.
   */
  journalPath?: string;
  reports: boolean;
  onEvent?: (event: RunEvent) => void;
  /**
   * Called with the controller before it runs (signal handlers, an abort wired to a person's keystroke) and
   * the run's crash recovery (reverts from the ledger what this run recorded, for a last-resort handler);
   * returns what undoes it once the run has reverted its faults, given the journal when the run ended.
   */
  guard?: (controller: Controller, crashRecovery: () => Promise<void>) => (journal?: Journal) => void;
  /** The environment that configures the run's telemetry (OTEL_*); process.env when absent. */
  env?: NodeJS.ProcessEnv;
}

export interface Execution {
  journal: Journal;
  /** Where the journal was written: the path asked for, or the fallback when that failed; absent: nowhere. */
  journalPath?: string;
  reports: { format: string; path: string }[];
  /**
   * Outputs that could not be written where asked, and where they went instead: for the caller to say once.
   * They never change the verdict or the exit code.
   */
  problems: string[];
}

/**
 * Runs one experiment the way `chaos run` does — controller, ledger, journal, reports — so that every
 * caller (a single run, a GameDay step) gets the same lifecycle and the same rollbacks. A journal that cannot
 * be written where asked (its folder removed, a full disk) goes to the state folder instead, else to stderr;
 * reports that cannot be written are skipped. Both are said in `problems`, and the verdict stands.
 * @throws like Controller.run() before anything is injected.
 */
export async function executeExperiment(experiment: Experiment, opts: ExecuteOptions): Promise<Execution> {
  const observers = await observeRun(experiment, {
    runId: opts.runId,
    toolVersion: opts.toolVersion,
    log: opts.log,
    env: opts.env,
  });
  const controller = new Controller(experiment, {
    registry: opts.registry,
    log: opts.log,
    ledger: opts.ledger,
    toolVersion: opts.toolVersion,
    runId: opts.runId,
    onEvent: (event) => {
      observers.onEvent(event);
      opts.onEvent?.(event);
    },
    traceProbe: (check) => observers.traceProbe(check),
  });
  const { ledger, registry, log, runId } = opts;
  const crashRecovery = async () => {
    await recoverFromLedger({ ledger, registry, log, runId });
  };
  const undo = opts.guard?.(controller, crashRecovery);
  let journal: Journal | undefined;
  try {
    journal = await controller.run();
  } catch (err) {
    await observers.end({ error: outputRedactor.text(errorMessage(err)) });
    throw err;
  } finally {
    undo?.(journal);
  }
  // Only once every fault is reverted: a slow collector or webhook must not hold up a rollback.
  const notSent = await observers.end(journal);
  if (notSent.length) journal.notSent = notSent;
  if (!opts.journalPath) return { journal, reports: [], problems: [] };
  const problems: string[] = [];
  const journalPath = await saveJournal(journal, opts.journalPath, problems);
  let reports: Execution["reports"] = [];
  if (opts.reports && journalPath) {
    try {
      reports = await writeReports(journal, dirname(journalPath));
    } catch (err) {
      problems.push(`the reports were not written in ${dirname(journalPath)}: ${(err as Error).message}`);
    }
  }
  return { journal, journalPath, reports, problems };
}

/** Writes the journal at `path`, else in the state folder, else on stderr; returns the file it went to. */
async function saveJournal(journal: Journal, path: string, problems: string[]): Promise<string | undefined> {
  let reason: string;
  try {
    await writeJournal(path, journal);
    return path;
  } catch (err) {
    reason = (err as Error).message;
  }
  const fallback = join(stateFolder(), "runs", journal.runId, "journal.json");
  try {
    await writeJournal(fallback, journal);
    problems.push(`cannot write the journal to ${path} (${reason}); it was written to ${fallback} instead`);
    return fallback;
  } catch (err) {
    problems.push(
      `cannot write the journal to ${path} (${reason}) nor to ${fallback} (${(err as Error).message}); it follows on stderr`,
    );
    process.stderr.write(`${JSON.stringify(journal, null, 2)}\n`);
    return undefined;
  }
}

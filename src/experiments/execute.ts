import { dirname } from "node:path";
import type { Logger } from "pino";
import type { Registry } from "../agents/registry.js";
import { Controller, type RunEvent } from "./controller.js";
import { type Journal, writeJournal } from "./journal.js";
import type { Ledger } from "./ledger.js";
import type { Experiment } from "./model.js";
import { recoverFromLedger } from "./recover.js";
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
   * returns what undoes it once the run has reverted its faults.
   */
  guard?: (controller: Controller, crashRecovery: () => Promise<void>) => () => void;
}

export interface Execution {
  journal: Journal;
  journalPath?: string;
  reports: { format: string; path: string }[];
}

/**
 * Runs one experiment the way `chaos run` does — controller, ledger, journal, reports — so that every
 * caller (a single run, a GameDay step) gets the same lifecycle and the same rollbacks.
 * @throws like Controller.run() before anything is injected; ChaosError("agent") when the journal or the
 *   reports cannot be written (the faults are reverted by then).
 */
export async function executeExperiment(experiment: Experiment, opts: ExecuteOptions): Promise<Execution> {
  const controller = new Controller(experiment, {
    registry: opts.registry,
    log: opts.log,
    ledger: opts.ledger,
    toolVersion: opts.toolVersion,
    runId: opts.runId,
    onEvent: opts.onEvent,
  });
  const { ledger, registry, log, runId } = opts;
  const crashRecovery = async () => {
    await recoverFromLedger({ ledger, registry, log, runId });
  };
  const undo = opts.guard?.(controller, crashRecovery);
  let journal: Journal;
  try {
    journal = await controller.run();
  } finally {
    undo?.();
  }
  if (!opts.journalPath) return { journal, reports: [] };
  await writeJournal(opts.journalPath, journal);
  const reports = opts.reports ? await writeReports(journal, dirname(opts.journalPath)) : [];
  return { journal, journalPath: opts.journalPath, reports };
}

import type { Controller } from "../experiments/controller.js";
import { terminalHungUp } from "./guard.js";
import { red, say, yellow } from "./output.js";

/**
 * The signals that stop a run the way Ctrl-C does: SIGHUP is a terminal or SSH session closing, SIGQUIT is
 * Ctrl-\. Each aborts the method and rolls every fault back (exit 3).
 */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const satisfies NodeJS.Signals[];

/** How many signals force the exit (without waiting for the rollbacks). */
const FORCE_AFTER = 3;
/**
 * How long a signalled run may still take to roll back and write its journal before the process ends
 * anyway: a revert or a write stuck on a dead mount or a hung API must not keep it alive forever.
 */
export const ROLLBACK_GRACE_MS = 60_000;
/** Once the verdict is in, how long a signal leaves the journal and reports to be written. */
export const OUTPUT_GRACE_MS = 5_000;

export interface SafetyNets {
  /** Hands over the run (again for each file of a suite); a signal that arrived before aborts it at once. */
  attach(controller: Controller, crashRecovery: () => Promise<void>): void;
  /**
   * The verdict is known (its exit code when there is one): further signals no longer abort anything, the
   * journal and reports still get written, within OUTPUT_GRACE_MS.
   */
  finished(exitCode?: number): void;
  /**
   * Removes the handlers. `chaos run` never does; a caller that runs several experiments in one process and
   * handles signals itself between them (a GameDay) disposes of each run's nets once its verdict is written.
   */
  dispose(): void;
}

/**
 * Installs the handlers of `chaos run` for the whole life of the process — they are never removed, so that a
 * late or repeated signal cannot kill the process between the rollbacks and the journal (which would end it
 * with 130/143 and a `journal.json.tmp`). The first signal aborts the run (rollbacks still happen; exit 3);
 * the second only says the run is rolling back; the third forces the exit: faults still live stay in the
 * ledger for `chaos rollback`, and leases of a dead run are stale. Whatever is stuck, a signal ends the
 * process in bounded time: within `rollbackMs` (ROLLBACK_GRACE_MS) while the run rolls back, within
 * `outputMs` (OUTPUT_GRACE_MS) once its verdict is in, with the verdict's exit code. An uncaught error reverts
 * what the ledger holds for this run, then exits 4.
 */
export function installSafetyNets(grace: { rollbackMs?: number; outputMs?: number } = {}): SafetyNets {
  const rollbackGraceMs = grace.rollbackMs ?? ROLLBACK_GRACE_MS;
  const outputGraceMs = grace.outputMs ?? OUTPUT_GRACE_MS;
  let controller: Controller | undefined;
  let recover: (() => Promise<void>) | undefined;
  let pending: NodeJS.Signals | undefined;
  let done = false;
  let verdictCode: number | undefined;
  let signals = 0;
  let deadline: NodeJS.Timeout | undefined;

  // Unref'd: the deadline ends a process that is stuck, it never keeps a finished one alive.
  const exitWithin = (ms: number, say_: () => void, code: () => number) => {
    if (deadline) clearTimeout(deadline);
    deadline = setTimeout(() => {
      say_();
      process.exit(code());
    }, ms);
    deadline.unref();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (sig === "SIGHUP") terminalHungUp();
    if (signals >= FORCE_AFTER) {
      say(red("  forced exit: faults may remain; run `chaos rollback` to revert them"));
      process.exit(3);
    }
    if (done) {
      say(yellow(`  ${sig}: the verdict is in; writing the journal and reports`));
      exitWithin(
        outputGraceMs,
        () =>
          say(red(`  the journal and reports were not written within ${outputGraceMs / 1000}s of ${sig}`)),
        () => verdictCode ?? 3,
      );
      return;
    }
    if (!deadline)
      exitWithin(
        rollbackGraceMs,
        () =>
          say(
            red(
              `  still rolling back ${rollbackGraceMs / 1000}s after ${sig}: exiting; faults may remain, run \`chaos rollback\``,
            ),
          ),
        () => 3,
      );
    if (signals === 1) {
      if (controller) controller.abort("signal", `received ${sig}`);
      else pending = sig;
      return;
    }
    say(yellow("  rolling back — wait, or send the signal again to force an exit"));
  };
  const onCrash = (err: unknown) => {
    const message = (err as Error)?.message ?? String(err);
    // Stop the method first so that nothing new is applied while the ledger is being reverted.
    controller?.abort("failure", `internal error: ${message}`);
    process.stderr.write(`${red("internal error:")} ${message} — reverting this run's faults\n`);
    (recover ?? (async () => undefined))()
      .catch((e) =>
        process.stderr.write(
          `rollback after crash failed: ${(e as Error).message}; run \`chaos rollback\`\n`,
        ),
      )
      .finally(() => process.exit(4));
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);

  return {
    attach(c, crashRecovery) {
      // A new run (the next file of a suite) is in progress again: signals abort it.
      done = false;
      verdictCode = undefined;
      controller = c;
      recover = crashRecovery;
      if (pending) c.abort("signal", `received ${pending}`);
    },
    finished(exitCode) {
      done = true;
      verdictCode = exitCode;
      // A signal's deadline carries over to the writing of the journal, shortened to the output grace.
      if (deadline)
        exitWithin(
          outputGraceMs,
          () => say(red(`  the journal and reports were not written within ${outputGraceMs / 1000}s`)),
          () => verdictCode ?? 3,
        );
    },
    dispose() {
      if (deadline) clearTimeout(deadline);
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
    },
  };
}

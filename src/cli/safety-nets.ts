import type { Controller } from "../experiments/controller.js";
import { red, say, yellow } from "./output.js";

/**
 * The signals that stop a run the way Ctrl-C does: SIGHUP is a terminal or SSH session closing, SIGQUIT is
 * Ctrl-\. Each aborts the method and rolls every fault back (exit 3).
 */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const satisfies NodeJS.Signals[];

/** How many signals force the exit (without waiting for the rollbacks). */
const FORCE_AFTER = 3;

export interface SafetyNets {
  /** Hands over the run (again for each file of a suite); a signal that arrived before aborts it at once. */
  attach(controller: Controller, crashRecovery: () => Promise<void>): void;
  /** The verdict is known: further signals no longer abort anything, the journal and reports still get written. */
  finished(): void;
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
 * ledger for `chaos rollback`, and leases of a dead run are stale. An uncaught error reverts what the ledger
 * holds for this run, then exits 4.
 */
export function installSafetyNets(): SafetyNets {
  let controller: Controller | undefined;
  let recover: (() => Promise<void>) | undefined;
  let pending: NodeJS.Signals | undefined;
  let done = false;
  let signals = 0;

  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals >= FORCE_AFTER) {
      say(red("  forced exit: faults may remain; run `chaos rollback` to revert them"));
      process.exit(3);
    }
    if (done) {
      say(yellow(`  ${sig}: the verdict is in; writing the journal and reports`));
      return;
    }
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
      controller = c;
      recover = crashRecovery;
      if (pending) c.abort("signal", `received ${pending}`);
    },
    finished() {
      done = true;
    },
    dispose() {
      for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
    },
  };
}

import type { AbortKind } from "./evidence.js";
import type { ActionStep, Experiment } from "./model.js";

/**
 * The experiment's own rollback steps that run, by its `rollbacks-when` (Chaos Toolkit's --rollback-strategy,
 * chaoslib/run.py `run_rollback`). Faults are reverted whatever this says: only the user's steps are chosen.
 * When they are left out, why is added to `reasons` (the journal's).
 *
 *   always      every time (our default)
 *   deviated    only when the hypothesis deviated
 *   not-failed  unless the run was not steady, deviated, or was interrupted (a stop condition, a signal);
 *               a run that failed on an error still runs them, as Chaos Toolkit's "aborted" does
 */
export function rollbacksToRun(
  e: Pick<Experiment, "rollbacks" | "rollbacksWhen">,
  reasons: string[],
  notSteady: boolean,
  deviated: boolean,
  abort?: { kind: AbortKind },
): readonly ActionStep[] {
  const when = e.rollbacksWhen ?? "always";
  if (when === "always" || e.rollbacks.length === 0) return e.rollbacks;
  const interrupted = abort !== undefined && abort.kind !== "failure";
  const run = when === "deviated" ? deviated : !(notSteady || deviated || interrupted);
  if (run) return e.rollbacks;
  const why =
    when === "deviated"
      ? "the hypothesis did not deviate"
      : notSteady
        ? "the run was not steady"
        : deviated
          ? "the hypothesis deviated"
          : "the run was interrupted";
  reasons.push(`rollbacks not run (rollbacks-when: ${when}): ${why}; every fault was reverted all the same`);
  return [];
}

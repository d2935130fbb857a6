import { formatDuration } from "./duration.js";
import type { Experiment } from "./model.js";
import type { Path } from "./source.js";

/** Something valid that will still keep a run from judging: `chaos validate` says it, and passes. */
export interface Warning {
  message: string;
  hint: string;
  path: Path;
}

/**
 * The faults no hypothesis check can see, known before the run: with no `during:` block nothing is checked
 * while faults are live (the run ends NOT OBSERVED); a fault shorter than `during: every`, or an action with
 * less of the method left after it than that interval, may end before the first check. `during: none`
 * accepts not looking, so it warns of nothing.
 */
export function unobservableFaults(e: Experiment): Warning[] {
  const steady = e.steadyState;
  const actions = e.method.filter((s) => s.kind === "action");
  if (!steady?.probes.length || !actions.length || steady.during === "none") return [];
  if (!steady.during)
    return [
      {
        message:
          "no during: block, so nothing is checked while the faults are live: the run can only end NOT OBSERVED",
        hint: "add during: { every: 1s } under steady-state, or during: none to judge only before and after",
        path: ["steady-state"],
      },
    ];
  const every = steady.during.everyMs;
  const out: Warning[] = [];
  e.method.forEach((step, i) => {
    if (step.kind !== "action") return;
    const live = step.durationMs ?? timeAfter(e, i);
    if (live >= every) return;
    out.push({
      message: `"${step.name}" is live for ${formatDuration(live)}${step.durationMs === undefined ? " (what is left of the method after it)" : ""}, less than during: every ${formatDuration(every)}: no check may see it`,
      hint:
        step.durationMs === undefined
          ? `add a pause after it, longer than ${formatDuration(every)}`
          : `make its duration longer than ${formatDuration(every)}, or check more often`,
      path: step.path,
    });
  });
  return out;
}

/** How long the method goes on after step `i`: its pauses and the durations of its foreground actions. */
function timeAfter(e: Experiment, i: number): number {
  return e.method
    .slice(i + 1)
    .reduce(
      (sum, s) =>
        sum + (s.kind === "pause" ? s.ms : s.kind === "action" && !s.background ? (s.durationMs ?? 0) : 0),
      0,
    );
}

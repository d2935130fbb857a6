import type { ActivityRecord, Journal, ProbeRecord, RunStatus } from "../journal.js";
import type { Experiment } from "../model.js";

/**
 * A run's journal in the shape Chaos Toolkit writes (`status`, `deviated`, `steady_states`, `run[]`,
 * `rollbacks[]`), so that its reporting and dashboards read our runs. Our verdicts are stricter: a run
 * that was not observed, or could not judge, is `failed` there, never `completed`.
 */
const STATUS: Record<RunStatus, string> = {
  held: "completed",
  completed: "completed",
  deviated: "failed",
  "not-steady": "failed",
  unobserved: "failed",
  aborted: "aborted",
  error: "failed",
};

const seconds = (ms: number) => ms / 1000;

function probeRun(r: ProbeRecord) {
  return {
    activity: { type: "probe", name: r.probe, tolerance: r.tolerance },
    output: r.value ?? null,
    status: r.outcome === "error" || r.outcome === "no-answer" ? "failed" : "succeeded",
    start: r.start,
    end: r.end,
    duration: seconds(r.durationMs),
    tolerance_met: r.ok,
    ...(r.ok ? {} : { exception: [r.reason] }),
  };
}

function activityRun(a: ActivityRecord) {
  return {
    activity: { type: a.kind === "probe" ? "probe" : "action", name: a.name, background: a.background },
    output: a.output ?? null,
    status: a.status === "succeeded" ? "succeeded" : "failed",
    start: a.start,
    end: a.end,
    duration: seconds(a.durationMs),
    ...(a.error ? { exception: [a.error] } : {}),
  };
}

function state(records: ProbeRecord[]) {
  return records.length
    ? { steady_state_met: records.every((r) => r.ok), probes: records.map(probeRun) }
    : null;
}

export function toCtkJournal(journal: Journal, experiment: Pick<Experiment, "document" | "source">) {
  return {
    "chaoslib-version": null,
    platform: `chaoskit ${journal.tool.version}`,
    experiment: experiment.source?.document ?? experiment.document,
    start: journal.start,
    end: journal.end,
    duration: seconds(journal.durationMs),
    status: STATUS[journal.status],
    deviated: journal.status === "deviated",
    steady_states: {
      before: state(journal.steadyState.before),
      after: state(journal.steadyState.after),
      during: journal.steadyState.during.map((r) => state([r])),
    },
    run: journal.method.filter((a) => a.kind !== "pause").map(activityRun),
    rollbacks: journal.rollbacks.map((r) => ({
      activity: { type: "action", name: r.description },
      output: r.note ?? null,
      status: r.status,
      start: r.start,
      end: r.end,
      duration: seconds(r.durationMs),
      ...(r.error ? { exception: [r.error] } : {}),
    })),
    // Why the verdict is what it is, which Chaos Toolkit's journal has no field for.
    reasons: journal.reasons,
  };
}

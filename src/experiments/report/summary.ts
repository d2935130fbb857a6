import { COULD_NOT_SEE } from "../evidence.js";
import type { Journal, ProbeRecord, RunStatus } from "../journal.js";
import { extentOf, numbersOf } from "./values.js";

/** The verdict in words, the same in every report format. */
export const STATUS_LABEL: Record<RunStatus, string> = {
  held: "HELD",
  completed: "COMPLETED (nothing judged)",
  deviated: "DEVIATED",
  unobserved: "NOT OBSERVED (nothing checked while a fault was live)",
  "not-steady": "NOT STEADY (nothing injected)",
  aborted: "ABORTED",
  error: "ERROR (the run could not judge)",
};

/** Names in first-seen order. */
export function namesOf(records: ProbeRecord[]): string[] {
  return [...new Set(records.map((r) => r.probe))];
}

/** Every steady-state probe of the run, in the order the experiment declares them. */
export function steadyProbes(j: Journal): string[] {
  const { before, during, after } = j.steadyState;
  return namesOf([...before, ...during, ...after]);
}

/** The verdict of a probe in a phase is its last measurement; the after phase retries until it recovers. */
export function lastOf(records: ProbeRecord[], probe: string): { last?: ProbeRecord; attempts: number } {
  const mine = records.filter((r) => r.probe === probe);
  return { last: mine[mine.length - 1], attempts: mine.length };
}

export interface SeriesStats {
  samples: number;
  failures: number;
  min?: number;
  max?: number;
  /** The first failed sample, whose reason explains the rest more often than not. */
  firstFailure?: ProbeRecord;
}

/** Counts and numeric extent of one probe's samples. */
export function statsOf(records: ProbeRecord[]): SeriesStats {
  const extent = extentOf(records.flatMap((r) => numbersOf(r.value)));
  const failed = records.filter((r) => !r.ok);
  return {
    samples: records.length,
    failures: failed.length,
    min: extent?.min,
    max: extent?.max,
    firstFailure: failed[0],
  };
}

/**
 * Stop-condition checks that stopped the run: met (the controller records those as outcome "fail"), or
 * unable to see (fail closed).
 */
export function triggeredStops(j: Journal): ProbeRecord[] {
  return j.stopConditions.filter((r) => r.outcome === "fail" || r.reason.startsWith(COULD_NOT_SEE));
}

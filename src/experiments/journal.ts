import { dirname } from "node:path";
import type { CheckCounts } from "./checks.js";
import { makeDir } from "./make-dir.js";
import type { Experiment } from "./model.js";
import { writeFileSafely } from "./output-file.js";
import type { Outcome } from "./tolerance.js";

/** How a run ended, as a CI gate reads it. See EXIT in errors.ts for the exit codes. */
export type RunStatus =
  | "held"
  /** No hypothesis at all: a plain injection, nothing judged. */
  | "completed"
  | "deviated"
  | "not-steady"
  /** Held before and after, but nothing was checked while a fault was live: no evidence it held. */
  | "unobserved"
  | "aborted"
  | "error";

export const EXIT_FOR_STATUS: Record<RunStatus, number> = {
  held: 0,
  completed: 0,
  deviated: 1,
  "not-steady": 1,
  unobserved: 1,
  aborted: 3,
  error: 4,
};

export type Phase = "before" | "during" | "after" | "method" | "stop-when";

/** One probe measurement: these form the time series of the before, during and after phases. */
export interface ProbeRecord {
  probe: string;
  key: string;
  phase: Phase;
  start: string;
  end: string;
  durationMs: number;
  outcome: Outcome;
  ok: boolean;
  value?: unknown;
  summary?: string;
  reason: string;
  tolerance?: string;
  /** The probe's weight in the resilience score, when the experiment gives one (default 1). */
  weight?: number;
  /** The unit of its values, when the experiment declares one. */
  unit?: string;
}

export type ActivityStatus = "succeeded" | "failed" | "timed-out" | "aborted" | "skipped";

export interface ActivityRecord {
  name: string;
  kind: "action" | "pause" | "probe";
  ref?: string;
  background: boolean;
  start: string;
  end: string;
  durationMs: number;
  status: ActivityStatus;
  output?: unknown;
  error?: string;
}

/** A fault's window: from the moment it was applied to the moment it was reverted. */
export interface FaultRecord {
  step: string;
  ref: string;
  description: string;
  appliedAt: string;
  revertedAt?: string;
  /** The revert found the fault already gone: removed by someone else while it should have been live. */
  vanished?: boolean;
}

export interface RollbackRecord {
  description: string;
  source: "automatic" | "user";
  start: string;
  end: string;
  durationMs: number;
  status: "succeeded" | "failed";
  error?: string;
  /** What the agent found while reverting, e.g. a target someone else removed meanwhile. */
  note?: string;
}

export interface Journal {
  $schema: string;
  tool: { name: string; version: string };
  runId: string;
  experiment: { title: string; file: string; tags: string[]; document: unknown };
  start: string;
  end: string;
  durationMs: number;
  status: RunStatus;
  exitCode: number;
  reasons: string[];
  steadyState: { before: ProbeRecord[]; during: ProbeRecord[]; after: ProbeRecord[] };
  /**
   * With `steady-state.before.within`: how long the run waited for the hypothesis to hold (`waitedMs`) and
   * in how many rounds of checks. Only the last round is kept in `steadyState.before`.
   */
  steadyBefore?: { waitedMs: number; attempts: number; withinMs: number };
  stopConditions: ProbeRecord[];
  method: ActivityRecord[];
  faults: FaultRecord[];
  rollbacks: RollbackRecord[];
  aborted?: { reason: string; at: string };
  /** Checks (probe samples) per phase: the counts every report shows. */
  checks?: CheckCounts;
  /** The resilience score in percent: the weighted share of hypothesis checks that held. */
  score?: number;
  /** What could not be delivered to those watching the run (traces, metrics, notifications). */
  notSent?: string[];
}

/** The journal of a run that starts now: empty series, "held" until the verdict says otherwise. */
export function openJournal(
  runId: string,
  experiment: Pick<Experiment, "title" | "file" | "tags" | "document">,
  toolVersion: string,
): Journal {
  return {
    $schema: "https://chaoskit.dev/schema/journal-v1.json",
    tool: { name: "chaoskit", version: toolVersion },
    runId,
    experiment: {
      title: experiment.title,
      file: experiment.file,
      tags: experiment.tags,
      document: experiment.document,
    },
    start: new Date().toISOString(),
    end: "",
    durationMs: 0,
    status: "held",
    exitCode: 0,
    reasons: [],
    steadyState: { before: [], during: [], after: [] },
    stopConditions: [],
    method: [],
    faults: [],
    rollbacks: [],
  };
}

/**
 * Writes the journal atomically (temp file then rename), creating its folder; never through a symlink or
 * over a special file.
 * @throws ChaosError("invalid") for such a path; the file system's error when the write fails.
 */
export async function writeJournal(path: string, journal: Journal): Promise<void> {
  await makeDir(dirname(path));
  await writeFileSafely(path, `${JSON.stringify(journal, null, 2)}\n`, "journal");
}

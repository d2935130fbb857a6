import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunStatus } from "../experiments/journal.js";
import { makeDir } from "../experiments/make-dir.js";
import type { Prediction, Runbook, RunbookStep } from "./model.js";

/** How a GameDay ended. */
export type GameDayStatus = "completed" | "no-go" | "aborted" | "preconditions-failed" | "error";

/** What an experiment step did, against what the team predicted. */
export interface ExperimentOutcome {
  file: string;
  title: string;
  runId: string;
  expect: Prediction;
  outcome: RunStatus;
  /** The outcome is the predicted verdict; anything else is a surprise. */
  matched: boolean;
  exitCode: number;
  reasons: string[];
  /** Paths relative to the GameDay's folder: the journal and the experiment's own reports. */
  journal: string;
  reports: { format: string; path: string }[];
}

/** One step as it happened. */
export interface TimelineEntry {
  step: string;
  kind: RunbookStep["kind"] | "preconditions";
  /** The instruction, question or experiment title, as the people saw it. */
  text: string;
  start: string;
  end: string;
  status: "done" | "aborted" | "failed";
  /** Who confirmed or answered. */
  by?: string;
  answer?: string;
  decision?: "go" | "no-go";
  experiment?: ExperimentOutcome;
  /** The journal of the precondition probes, relative to the GameDay's folder. */
  journal?: string;
  note?: string;
}

export interface Finding {
  kind: "surprise" | "observation";
  step: string;
  text: string;
}

/** Everything a GameDay leaves behind: written as gameday.json, rendered as gameday.md and gameday.html. */
export interface GameDayRecord {
  tool: { name: string; version: string };
  id: string;
  runbook: Pick<Runbook, "file" | "title" | "goal" | "roles">;
  /** interactive: a person at a terminal; answers: from --answers (and --yes); yes: --yes alone. */
  mode: "interactive" | "answers" | "yes";
  start: string;
  end: string;
  durationMs: number;
  status: GameDayStatus;
  exitCode: number;
  reasons: string[];
  aborted?: { reason: string; at: string; step?: string };
  timeline: TimelineEntry[];
  findings: Finding[];
}

/** The exit code of a GameDay: 0 every prediction right, 1 any wrong (or preconditions unmet), 3 abort, 4 error. */
export function exitCodeOf(status: GameDayStatus, anySurprise: boolean): number {
  if (status === "aborted") return 3;
  if (status === "error") return 4;
  if (status === "preconditions-failed") return 1;
  return anySurprise ? 1 : 0;
}

/**
 * Writes gameday.json atomically (a crash leaves the previous version, never half a file).
 * @throws the file system's error.
 */
export async function writeRecord(dir: string, record: GameDayRecord): Promise<string> {
  await makeDir(dir);
  const path = join(dir, "gameday.json");
  await writeFile(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}

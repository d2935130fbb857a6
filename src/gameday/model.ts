import type { Experiment, ProbeSpec, StopCondition } from "../experiments/model.js";
import type { Path } from "../experiments/source.js";

/** The verdict a team predicts for an experiment step. */
export type Prediction = "held" | "deviated";

interface StepBase {
  /** Names the step in answer files and in the record; `step-<n>` when the runbook gives none. */
  id: string;
  path: Path;
}

export interface ExperimentStep extends StepBase {
  kind: "experiment";
  /** The experiment file as written in the runbook, and resolved against the runbook's folder. */
  file: string;
  resolved: string;
  expect: Prediction;
  experiment: Experiment;
  /** The `abort-if` conditions declared before this step: extra stop conditions of its run. */
  abortIf: StopCondition[];
}

export interface ManualStep extends StepBase {
  kind: "manual";
  text: string;
}

export interface ObserveStep extends StepBase {
  kind: "observe";
  text: string;
}

export interface WaitStep extends StepBase {
  kind: "wait";
  ms: number;
}

export interface DecideStep extends StepBase {
  kind: "decide";
  text: string;
}

export interface AbortIfStep extends StepBase {
  kind: "abort-if";
  condition: StopCondition;
}

export type RunbookStep = ExperimentStep | ManualStep | ObserveStep | WaitStep | DecideStep | AbortIfStep;

/** Steps that stop for a person: what an answer file must cover. */
export type PromptStep = ManualStep | ObserveStep | DecideStep;

export const PRECONDITIONS_ID = "preconditions";

/** A validated runbook, every experiment it names loaded and validated too. */
export interface Runbook {
  file: string;
  title: string;
  goal?: string;
  description?: string;
  roles: { facilitator?: string; observers: string[] };
  configuration: Record<string, unknown>;
  preconditions: { checklist: string[]; probes: ProbeSpec[] };
  steps: RunbookStep[];
}

export function isPromptStep(step: RunbookStep): step is PromptStep {
  return step.kind === "manual" || step.kind === "observe" || step.kind === "decide";
}

/** The prefix that marks an `abort-if` among an experiment's stop conditions (in its journal too). */
export const ABORT_IF_PREFIX = "abort-if: ";

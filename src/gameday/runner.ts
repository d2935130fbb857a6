import { ChaosError, errorMessage, exitCodeFor } from "../experiments/errors.js";
import type { Execution } from "../experiments/execute.js";
import type { Experiment } from "../experiments/model.js";
import {
  ABORT_IF_PREFIX,
  type ExperimentStep,
  PRECONDITIONS_ID,
  type Runbook,
  type RunbookStep,
} from "./model.js";
import type { Finding, GameDayRecord, GameDayStatus, TimelineEntry } from "./record.js";
import { exitCodeOf } from "./record.js";

/** The person (or the answer file) the GameDay talks to. Every method rejects with GameDayAborted on abort. */
export interface Interaction {
  confirm(step: string, text: string, signal: AbortSignal): Promise<{ by: string }>;
  observe(step: string, question: string, signal: AbortSignal): Promise<{ by: string; answer: string }>;
  decide(step: string, question: string, signal: AbortSignal): Promise<{ by: string; go: boolean }>;
  /** Waits `ms` with a visible countdown; resolves early when the signal aborts. */
  wait(step: string, ms: number, signal: AbortSignal): Promise<void>;
}

/** Thrown by an Interaction when a person asks to abort (typed `abort`, Ctrl-C). */
export class GameDayAborted extends ChaosError {
  constructor(reason: string) {
    super("aborted", reason);
  }
}

export type GameDayEvent =
  | {
      type: "step";
      step: RunbookStep | { kind: "preconditions"; id: string; checklist: string[] };
      index: number;
      total: number;
    }
  | { type: "entry"; entry: TimelineEntry }
  | { type: "end"; record: GameDayRecord };

export interface RunnerOptions {
  id: string;
  toolVersion: string;
  mode: GameDayRecord["mode"];
  interaction: Interaction;
  /**
   * Runs one experiment as `chaos run` does, aborting it through its controller when `signal` aborts;
   * `label` names its folder. Faults are reverted before it returns.
   */
  runExperiment(experiment: Experiment, label: string, signal: AbortSignal): Promise<Execution>;
  /** Reverts whatever the ledger still holds for this GameDay's runs; returns one line per problem. */
  revertLeftovers(): Promise<string[]>;
  /** Paths in the record are relative to the GameDay's folder. */
  relative(path: string): string;
  /** Aborted by Ctrl-C, a typed `abort` or a signal; the reason is a string saying why. */
  signal: AbortSignal;
  onEvent?: (event: GameDayEvent) => void;
}

type State =
  | { at: "preconditions" }
  | { at: "step"; index: number }
  | { at: "end"; status: GameDayStatus; reason?: string; exitCode?: number };

const now = () => new Date().toISOString();

/**
 * Runs a GameDay as a small state machine: preconditions ▶ step 1 ▶ … ▶ step n ▶ end. Any step may end it
 * early: a no-go decision (clean end), an abort (Ctrl-C, `abort`, an `abort-if` met: exit 3) or an error.
 * Experiments run through the same path as `chaos run`, so their faults are reverted on every way out; on
 * an abort or an error whatever the ledger still holds for this GameDay is reverted as well.
 */
export class GameDayRunner {
  private readonly timeline: TimelineEntry[] = [];
  private readonly findings: Finding[] = [];
  private readonly reasons: string[] = [];
  private aborted?: GameDayRecord["aborted"];
  private readonly started = Date.now();

  constructor(
    private readonly runbook: Runbook,
    private readonly opts: RunnerOptions,
  ) {}

  /** Runs every step and returns the record. Never throws for a step's failure: the record says it. */
  async run(): Promise<GameDayRecord> {
    let state: State = { at: "preconditions" };
    while (state.at !== "end") state = await this.next(state);
    if (state.status === "aborted" || state.status === "error") {
      const problems = await this.opts.revertLeftovers();
      this.reasons.push(
        ...(problems.length
          ? problems
          : ["every fault was rolled back: the ledger holds nothing more for this GameDay"]),
      );
    }
    return this.finish(state);
  }

  private async next(state: Exclude<State, { at: "end" }>): Promise<State> {
    if (this.opts.signal.aborted) return this.abortedAt(state.at === "step" ? state.index : -1);
    if (state.at === "preconditions") return this.preconditions();
    const step = this.runbook.steps[state.index];
    if (!step) return { at: "end", status: "completed" };
    this.emit({ type: "step", step, index: state.index, total: this.runbook.steps.length });
    const entry: TimelineEntry = {
      step: step.id,
      kind: step.kind,
      text: textOf(step),
      start: now(),
      end: "",
      status: "done",
    };
    try {
      const outcome = await this.runStep(step, entry);
      this.close(entry);
      if (outcome) return outcome;
      return { at: "step", index: state.index + 1 };
    } catch (err) {
      if (err instanceof GameDayAborted || this.opts.signal.aborted) {
        const reason = this.abortReason(err);
        this.close(entry, "aborted", reason);
        return this.abortedAt(state.index, reason);
      }
      this.close(entry, "failed", errorMessage(err));
      return {
        at: "end",
        status: "error",
        reason: `step "${step.id}" failed: ${errorMessage(err)}`,
        exitCode: exitCodeFor(err),
      };
    }
  }

  /** Runs one step into its timeline entry; returns the end state when the step ends the GameDay. */
  private async runStep(step: RunbookStep, entry: TimelineEntry): Promise<State | undefined> {
    const { interaction } = this.opts;
    const signal = this.opts.signal;
    switch (step.kind) {
      case "manual":
        entry.by = (await interaction.confirm(step.id, step.text, signal)).by;
        return undefined;
      case "observe": {
        const { by, answer } = await interaction.observe(step.id, step.text, signal);
        Object.assign(entry, { by, answer });
        this.findings.push({ kind: "observation", step: step.id, text: answer });
        return undefined;
      }
      case "decide": {
        const { by, go } = await interaction.decide(step.id, step.text, signal);
        Object.assign(entry, { by, decision: go ? "go" : "no-go" });
        return go ? undefined : { at: "end", status: "no-go", reason: `no-go at "${step.id}": ${step.text}` };
      }
      case "wait":
        await interaction.wait(step.id, step.ms, signal);
        if (signal.aborted) throw new GameDayAborted(this.abortReason());
        return undefined;
      case "abort-if":
        entry.note = "checked during every following experiment";
        return undefined;
      case "experiment":
        return this.experiment(step, entry);
    }
  }

  private async experiment(step: ExperimentStep, entry: TimelineEntry): Promise<State | undefined> {
    const experiment = { ...step.experiment, stopWhen: [...step.experiment.stopWhen, ...step.abortIf] };
    const run = await this.opts.runExperiment(experiment, step.id, this.opts.signal);
    const j = run.journal;
    const matched = j.status === step.expect;
    entry.experiment = {
      file: step.file,
      title: step.experiment.title,
      runId: j.runId,
      expect: step.expect,
      outcome: j.status,
      matched,
      exitCode: j.exitCode,
      reasons: j.reasons,
      journal: this.opts.relative(run.journalPath ?? ""),
      reports: run.reports.map((r) => ({ format: r.format, path: this.opts.relative(r.path) })),
    };
    if (this.opts.signal.aborted) throw new GameDayAborted(this.abortReason());
    const abortIf = j.stopConditions.find((r) => r.probe.startsWith(ABORT_IF_PREFIX) && r.outcome === "fail");
    if (j.status === "aborted" && abortIf) {
      const reason = `${abortIf.probe.slice(ABORT_IF_PREFIX.length)}: ${abortIf.reason}`;
      entry.status = "aborted";
      entry.note = `abort-if met: ${reason}`;
      this.aborted = { reason: `abort-if "${reason}"`, at: now(), step: step.id };
      return { at: "end", status: "aborted", reason: this.aborted.reason };
    }
    if (j.status === "error") {
      entry.status = "failed";
      return {
        at: "end",
        status: "error",
        reason: `experiment "${step.id}" could not judge: ${j.reasons[0] ?? ""}`,
      };
    }
    if (!matched) {
      this.findings.push({
        kind: "surprise",
        step: step.id,
        text: `predicted ${step.expect}, the experiment ${j.status === "not-steady" ? "found the system not steady before" : j.status}: ${j.reasons[0] ?? ""}`,
      });
    }
    return undefined;
  }

  private async preconditions(): Promise<State> {
    const { checklist, probes } = this.runbook.preconditions;
    if (checklist.length === 0 && probes.length === 0) return { at: "step", index: 0 };
    this.emit({
      type: "step",
      step: { kind: "preconditions", id: PRECONDITIONS_ID, checklist },
      index: -1,
      total: this.runbook.steps.length,
    });
    const entry: TimelineEntry = {
      step: PRECONDITIONS_ID,
      kind: "preconditions",
      text: [...checklist, ...probes.map((p) => `probe: ${p.name}`)].join("; "),
      start: now(),
      end: "",
      status: "done",
    };
    try {
      if (checklist.length)
        entry.by = (
          await this.opts.interaction.confirm(
            PRECONDITIONS_ID,
            `Is every item of the checklist true? (${checklist.length} item${checklist.length === 1 ? "" : "s"})`,
            this.opts.signal,
          )
        ).by;
      if (probes.length) {
        const run = await this.opts.runExperiment(
          preconditionExperiment(this.runbook),
          PRECONDITIONS_ID,
          this.opts.signal,
        );
        if (this.opts.signal.aborted) throw new GameDayAborted(this.abortReason());
        entry.note = run.journal.reasons.join("; ");
        entry.journal = this.opts.relative(run.journalPath ?? "");
        if (run.journal.status === "error") {
          this.close(entry, "failed");
          return { at: "end", status: "error", reason: `preconditions could not be checked: ${entry.note}` };
        }
        // A probe-only experiment has no hypothesis: "completed" when every probe held, "deviated" when one did not.
        if (run.journal.status !== "held" && run.journal.status !== "completed") {
          this.close(entry, "failed");
          return {
            at: "end",
            status: "preconditions-failed",
            reason: `preconditions do not hold: ${entry.note}`,
          };
        }
      }
      this.close(entry);
      return { at: "step", index: 0 };
    } catch (err) {
      if (err instanceof GameDayAborted || this.opts.signal.aborted) {
        const reason = this.abortReason(err);
        this.close(entry, "aborted", reason);
        return this.abortedAt(-1, reason);
      }
      this.close(entry, "failed", errorMessage(err));
      return {
        at: "end",
        status: "error",
        reason: `preconditions failed: ${errorMessage(err)}`,
        exitCode: exitCodeFor(err),
      };
    }
  }

  private abortReason(err?: unknown): string {
    const reason = this.opts.signal.reason;
    if (typeof reason === "string") return reason;
    if (err instanceof GameDayAborted) return err.message;
    return "aborted";
  }

  private abortedAt(index: number, reason = this.abortReason()): State {
    const step = index >= 0 ? this.runbook.steps[index]?.id : PRECONDITIONS_ID;
    this.aborted ??= { reason, at: now(), step };
    return { at: "end", status: "aborted", reason: `aborted${step ? ` at "${step}"` : ""}: ${reason}` };
  }

  private close(entry: TimelineEntry, status: TimelineEntry["status"] = entry.status, note?: string): void {
    entry.end = now();
    entry.status = status;
    if (note) entry.note = note;
    this.timeline.push(entry);
    this.emit({ type: "entry", entry });
  }

  private finish(end: Extract<State, { at: "end" }>): GameDayRecord {
    const surprises = this.findings.filter((f) => f.kind === "surprise");
    if (end.reason) this.reasons.unshift(end.reason);
    for (const s of surprises) this.reasons.push(`surprise at "${s.step}": ${s.text}`);
    if (end.status === "completed" || end.status === "no-go") {
      const runs = this.timeline.filter((e) => e.experiment).length;
      if (surprises.length === 0) this.reasons.push(`every experiment (${runs}) matched its prediction`);
    }
    const record: GameDayRecord = {
      tool: { name: "chaoskit", version: this.opts.toolVersion },
      id: this.opts.id,
      runbook: {
        file: this.runbook.file,
        title: this.runbook.title,
        goal: this.runbook.goal,
        roles: this.runbook.roles,
      },
      mode: this.opts.mode,
      start: new Date(this.started).toISOString(),
      end: now(),
      durationMs: Date.now() - this.started,
      status: end.status,
      exitCode: end.exitCode ?? exitCodeOf(end.status, surprises.length > 0),
      reasons: this.reasons,
      ...(this.aborted ? { aborted: this.aborted } : {}),
      timeline: this.timeline,
      findings: this.findings,
    };
    this.emit({ type: "end", record });
    return record;
  }

  private emit(event: GameDayEvent): void {
    this.opts.onEvent?.(event);
  }
}

/** The text people see for a step. */
export function textOf(step: RunbookStep): string {
  switch (step.kind) {
    case "experiment":
      return `${step.experiment.title} (${step.file}, expect ${step.expect})`;
    case "wait":
      return `wait ${Math.round(step.ms / 1000)}s`;
    case "abort-if":
      return `abort if ${step.condition.name.slice(ABORT_IF_PREFIX.length)}`;
    default:
      return step.text;
  }
}

/**
 * The precondition probes as an experiment of probe steps, so that they are taken and judged by the same
 * controller as every experiment (preflight included) and leave a journal of their own.
 */
export function preconditionExperiment(runbook: Runbook): Experiment {
  return {
    file: runbook.file,
    title: `${runbook.title}: preconditions`,
    tags: ["gameday", "preconditions"],
    configuration: runbook.configuration,
    secrets: {},
    stopWhen: [],
    method: runbook.preconditions.probes.map((probe) => ({
      kind: "probe",
      name: probe.name,
      probe,
      background: false,
      path: probe.path,
    })),
    rollbacks: [],
    document: { title: runbook.title, preconditions: runbook.preconditions.probes.map((p) => p.name) },
  };
}

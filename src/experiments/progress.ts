import { type Tally, tally } from "./checks.js";
import type { RunEvent } from "./controller.js";
import type { Phase, ProbeRecord } from "./journal.js";
import type { Experiment } from "./model.js";
import { worstOf } from "./report/probe-table.js";
import { formatWithUnit, summaryWithUnit, toleranceText } from "./report/values.js";

/**
 * The progress model of a run: the controller's events folded into what a person watching wants to see —
 * the phase, each live fault's elapsed and remaining time, every hypothesis probe's and stop condition's
 * latest value against its tolerance, and the checks done and failed. Pure: time comes in with each call,
 * so renderers (terminal, plain lines) and tests share it.
 */
export type RunPhase = "before" | "method" | "rollbacks" | "after";

export interface ProbeProgress {
  name: string;
  kind: "hypothesis" | "stop condition";
  tolerance?: string;
  /** Checks per phase the probe was taken in (hypothesis: before/during/after; stop conditions: stop-when). */
  byPhase: Partial<Record<Phase, Tally>>;
  latest?: { value: string; ok: boolean; reason: string; phase: Phase };
  /** The worst value so far (see worstOf). */
  worst: string;
  records: ProbeRecord[];
}

export interface FaultProgress {
  step: string;
  ref: string;
  /** The undo, as the ledger records it. */
  undo: string;
  appliedAtMs: number;
  /** How long the step keeps it live, when the experiment says. */
  plannedMs?: number;
  revertedAtMs?: number;
}

export interface FaultView extends FaultProgress {
  elapsedMs: number;
  /** Undefined for a fault that lasts until the rollbacks. */
  remainingMs?: number;
  live: boolean;
}

export interface ProgressView {
  phase?: RunPhase;
  phaseNote?: string;
  step?: string;
  probes: ProbeProgress[];
  faults: FaultView[];
  checks: Tally;
  stopChecks: Tally;
  aborting?: string;
}

export class RunProgress {
  private phase?: RunPhase;
  private phaseNote?: string;
  private step?: string;
  private aborting?: string;
  private readonly probes = new Map<string, ProbeProgress>();
  private readonly faults: FaultProgress[] = [];
  private readonly planned = new Map<string, number>();

  constructor(experiment: Experiment) {
    for (const p of experiment.steadyState?.probes ?? [])
      this.probes.set(`h:${p.name}`, blank(p.name, "hypothesis", p.tolerance?.text));
    for (const s of experiment.stopWhen)
      this.probes.set(`s:${s.name}`, blank(s.name, "stop condition", s.probe.tolerance?.text));
    for (const step of experiment.method)
      if (step.kind === "action" && step.durationMs !== undefined)
        this.planned.set(step.name, step.durationMs);
  }

  /** Folds one event in; `atMs` is when it happened. */
  apply(e: RunEvent, atMs: number): void {
    switch (e.type) {
      case "phase":
        this.phase = e.phase;
        this.phaseNote = e.note;
        this.step = undefined;
        return;
      case "probe":
        this.probe(e.record);
        return;
      case "activity-start":
        this.step = e.name;
        return;
      case "activity":
        if (this.step === e.record.name) this.step = undefined;
        return;
      case "fault-applied":
        this.faults.push({
          step: e.fault.step,
          ref: e.fault.ref,
          undo: e.fault.description,
          appliedAtMs: atMs,
          plannedMs: this.planned.get(e.fault.step),
        });
        return;
      case "rollback": {
        const fault = this.faults.find(
          (f) => f.revertedAtMs === undefined && f.undo === e.record.description,
        );
        if (fault && e.record.status === "succeeded") fault.revertedAtMs = atMs;
        return;
      }
      case "abort":
        this.aborting = e.reason;
        return;
      case "acting-on":
        return;
    }
  }

  /** What the run looks like at `nowMs`. */
  view(nowMs: number): ProgressView {
    const probes = [...this.probes.values()];
    const hypothesis = probes.filter((p) => p.kind === "hypothesis").flatMap((p) => p.records);
    const stops = probes.filter((p) => p.kind === "stop condition").flatMap((p) => p.records);
    return {
      phase: this.phase,
      phaseNote: this.phaseNote,
      step: this.step,
      probes,
      faults: this.faults.map((f) => {
        const end = f.revertedAtMs ?? nowMs;
        const elapsedMs = Math.max(0, end - f.appliedAtMs);
        const live = f.revertedAtMs === undefined;
        return {
          ...f,
          elapsedMs,
          live,
          remainingMs: f.plannedMs === undefined || !live ? undefined : Math.max(0, f.plannedMs - elapsedMs),
        };
      }),
      checks: tally(hypothesis),
      stopChecks: tally(stops),
      aborting: this.aborting,
    };
  }

  private probe(r: ProbeRecord): void {
    if (r.phase === "method") return; // a method step's probe is an activity, not a watched probe
    const kind = r.phase === "stop-when" ? "stop condition" : "hypothesis";
    const key = `${kind === "hypothesis" ? "h" : "s"}:${r.probe}`;
    let p = this.probes.get(key);
    if (!p) {
      p = blank(r.probe, kind, r.tolerance);
      this.probes.set(key, p);
    }
    p.records.push(r);
    const t = p.byPhase[r.phase] ?? { total: 0, failed: 0 };
    p.byPhase[r.phase] = { total: t.total + 1, failed: t.failed + (r.ok ? 0 : 1) };
    const value = shownValue(r);
    p.latest = { value, ok: r.ok, reason: r.reason, phase: r.phase };
    p.worst = worstOf(p.records);
  }
}

/** What the live block shows of a result: the probe's summary, with the declared unit beside its number. */
function shownValue(r: ProbeRecord): string {
  if (r.summary === undefined) return r.value === undefined ? r.outcome : formatWithUnit(r.value, r.unit, 40);
  return summaryWithUnit(r.summary, r.value, r.unit);
}

function blank(name: string, kind: ProbeProgress["kind"], tolerance?: string): ProbeProgress {
  return {
    name,
    kind,
    tolerance: tolerance && toleranceText(tolerance),
    byPhase: {},
    worst: "",
    records: [],
  };
}

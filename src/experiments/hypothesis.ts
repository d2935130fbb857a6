import type { AgentContext, ProbeResult } from "../contract/agent.js";
import { every, sleep, withDeadline } from "./clock.js";
import { errorMessage } from "./errors.js";
import { type AbortKind, couldNotJudge, failureOutcome, isBlind, judgeStopCheck } from "./evidence.js";
import type { Phase, ProbeRecord } from "./journal.js";
import type { Experiment, ProbeSpec } from "./model.js";
import { now, type RunScope } from "./run-scope.js";
import type { JudgeContext } from "./tolerance.js";

type HypothesisPhase = "before" | "during" | "after";

export interface HypothesisOptions {
  /** Default deadline for one probe when the experiment gives none. */
  probeTimeoutMs?: number;
  /** A hypothesis check failed while a fault was live (the reasons summarise the samples at the end). */
  onDeviation(): void;
  abort(kind: AbortKind, message: string): void;
}

/**
 * Measures the steady-state hypothesis and the stop conditions: each probe is taken under a deadline,
 * judged by its tolerance, and written to the journal's series of its phase.
 */
export class Hypothesis {
  constructor(
    private readonly scope: RunScope,
    private readonly experiment: Experiment,
    private readonly opts: HypothesisOptions,
  ) {}

  /** Takes every hypothesis probe once, together, and records the samples in the phase's series. */
  async check(phase: HypothesisPhase): Promise<ProbeRecord[]> {
    const records = await this.take(phase);
    this.record(phase, records);
    return records;
  }

  /**
   * The checks before the method: one round, or with `before: { within }` a round every `every` until every
   * probe holds or the time is up — a system still settling (the tail of a previous run in a rate window) is
   * not yet "not steady". Only the last round joins the series; the journal keeps how long it took.
   */
  async before(): Promise<ProbeRecord[]> {
    const wait = this.experiment.steadyState?.before;
    if (!wait) return this.check("before");
    const { runSignal, journal } = this.scope;
    const start = Date.now();
    for (let attempts = 1; ; attempts++) {
      const records = await this.take("before");
      if (runSignal.aborted) return [];
      if (records.every((r) => r.ok) || Date.now() + wait.everyMs > start + wait.withinMs) {
        journal.steadyBefore = { waitedMs: Date.now() - start, attempts, withinMs: wait.withinMs };
        this.record("before", records);
        return records;
      }
      await sleep(wait.everyMs, runSignal);
      if (runSignal.aborted) return [];
    }
  }

  /** One round of every hypothesis probe, together; a round the run's abort cut short measured nothing. */
  private async take(phase: HypothesisPhase): Promise<ProbeRecord[]> {
    const probes = this.experiment.steadyState?.probes ?? [];
    const records = await Promise.all(probes.map((p) => this.measure(p, phase)));
    // A check that the run's own abort cut short is no probe error either: keep it out of the series. After
    // the method only a signal cuts the checks short.
    return this.stopFor(phase).aborted ? [] : records;
  }

  private record(phase: HypothesisPhase, records: ProbeRecord[]): void {
    for (const r of records) {
      this.scope.journal.steadyState[phase].push(r);
      this.scope.emit({ type: "probe", record: r });
    }
  }

  /** Watches the hypothesis (`during`) and the stop conditions on their intervals while the method runs. */
  startMonitors(): { stop(): Promise<void> } {
    const { runSignal } = this.scope;
    const loops: { stop(): Promise<void> }[] = [];
    const during = this.experiment.steadyState?.during;
    if (during && during !== "none") {
      loops.push(
        every(during.everyMs, async () => {
          if (runSignal.aborted) return;
          const records = await this.check("during");
          if (runSignal.aborted) return;
          for (const r of records.filter((x) => !x.ok)) {
            // A blind probe stops the method: faults must not stay live while nobody can see them.
            if (isBlind(r)) {
              this.scope.fail(couldNotJudge(r, "during"));
              continue;
            }
            this.opts.onDeviation();
            if (during.failFast)
              this.opts.abort("fail-fast", `hypothesis deviated (fail-fast): ${r.probe}: ${r.reason}`);
          }
        }),
      );
    }
    for (const cond of this.experiment.stopWhen) {
      loops.push(
        every(cond.everyMs, async () => {
          if (runSignal.aborted) return;
          const { record, stop } = judgeStopCheck(cond, await this.measure(cond.probe, "stop-when"));
          if (runSignal.aborted) return;
          this.scope.journal.stopConditions.push(record);
          this.scope.emit({ type: "probe", record });
          if (stop) this.opts.abort(stop.kind, stop.message);
        }),
      );
    }
    return { stop: async () => void (await Promise.all(loops.map((l) => l.stop()))) };
  }

  /** Runs one probe and judges it; a probe that cannot be taken is an `error` outcome, never a crash. */
  async measure(spec: ProbeSpec, phase: Phase): Promise<ProbeRecord> {
    const start = Date.now();
    const base = {
      probe: spec.name,
      key: spec.key,
      phase,
      start: new Date(start).toISOString(),
      tolerance: spec.tolerance?.text,
      ...(spec.weight === undefined ? {} : { weight: spec.weight }),
      ...(spec.unit === undefined ? {} : { unit: spec.unit }),
    };
    const deadline = new AbortController();
    const traceHeaders = this.scope.traceProbe?.({
      probe: spec.name,
      key: spec.key,
      phase,
      start: base.start,
    });
    const ctx: AgentContext = {
      ...this.scope.ctx,
      signal: AbortSignal.any([deadline.signal, this.stopFor(phase)]),
      ...(traceHeaders ? { traceHeaders } : {}),
    };
    try {
      const { probe } = this.scope.registry.probe(spec.key);
      const args = this.scope.bind(spec.args) as Record<string, unknown>;
      const timeout = spec.timeoutMs ?? this.opts.probeTimeoutMs ?? 30_000;
      const result: ProbeResult = await withDeadline(`probe "${spec.name}"`, timeout, deadline, () =>
        probe.run(args, ctx),
      );
      const tol = spec.tolerance;
      const j = tol?.judgeWith
        ? await tol.judgeWith(result, this.judgeContext(phase, traceHeaders))
        : (tol?.judge(result) ?? { outcome: "pass" as const, ok: true, reason: "recorded" });
      return {
        ...base,
        end: now(),
        durationMs: Date.now() - start,
        ...j,
        value: sanitize(result.value),
        summary: result.summary,
      };
    } catch (err) {
      return {
        ...base,
        end: now(),
        durationMs: Date.now() - start,
        outcome: failureOutcome(err),
        ok: false,
        reason: errorMessage(err),
      };
    }
  }

  /** For a tolerance that runs a probe of its own: under its own deadline, cut short as the check is. */
  private judgeContext(phase: Phase, traceHeaders: AgentContext["traceHeaders"]): JudgeContext {
    return {
      bind: (value) => this.scope.bind(value),
      probe: (key, args, label, timeoutMs) => {
        const deadline = new AbortController();
        const ctx: AgentContext = {
          ...this.scope.ctx,
          signal: AbortSignal.any([deadline.signal, this.stopFor(phase)]),
          ...(traceHeaders ? { traceHeaders } : {}),
        };
        const { probe } = this.scope.registry.probe(key);
        return withDeadline(label, timeoutMs, deadline, () => probe.run(args, ctx));
      },
    };
  }

  /** What cuts a check of this phase short: after the method the run is already aborted (or ended), so
   * only a signal may cut the recovery checks short. */
  private stopFor(phase: Phase): AbortSignal {
    return phase === "after" ? this.scope.signalStop : this.scope.runSignal;
  }
}

/** NaN and ±Infinity do not survive JSON; keep them readable in the journal. */
function sanitize(v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return v;
}

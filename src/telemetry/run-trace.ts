import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { ProbeStart, RunEvent } from "../experiments/events.js";
import type { ActivityRecord, Journal, ProbeRecord, RollbackRecord } from "../experiments/journal.js";
import type { Experiment } from "../experiments/model.js";
import { outputRedactor } from "../experiments/redact.js";

/**
 * Turns one run's events into a span tree, named as Chaos Toolkit's OpenTelemetry control names its spans
 * so that dashboards built for it carry over (see the README, "Traces"):
 *
 *   experiment                         chaos.experiment.title, chaos.run.id, chaos.run.verdict, chaos.run.score
 *   ├─ hypothesis  (chaos.phase=before)
 *   │   └─ activity: <probe>           chaos.probe.key, chaos.tolerance, chaos.outcome
 *   ├─ method
 *   │   ├─ activity: <step>            chaos.action, chaos.target, chaos.activity.status
 *   │   ├─ fault: <step>               from apply to revert; events `applied`, `reverted`
 *   │   └─ activity: <probe>           checks during the method and stop conditions
 *   ├─ rollbacks
 *   └─ hypothesis  (chaos.phase=after)
 *
 * Spans carry the times the journal records. Every event is already redacted; the only text taken from
 * the experiment itself (a step's target) passes the redactor too.
 */
export class RunTrace {
  private readonly root: Span;
  private phase?: { name: string; span: Span };
  private method?: Span;
  private readonly activities = new Map<string, { span: Span; start: number }>();
  private readonly faults = new Map<string, Span>();
  private readonly probes = new Map<string, Span>();
  /** Spans started; compared with those exported to tell what could not be sent. */
  started = 0;

  constructor(
    private readonly tracer: Tracer,
    private readonly experiment: Experiment,
    runId: string,
    parent: Context = ROOT_CONTEXT,
  ) {
    this.root = this.start(
      "experiment",
      {
        "chaos.experiment.title": experiment.title,
        "chaos.experiment.file": experiment.file,
        "chaos.run.id": runId,
        ...(experiment.tags.length ? { "chaos.experiment.tags": experiment.tags } : {}),
      },
      parent,
    );
  }

  /** The run's own trace context, e.g. for the traceparent of a probe's request. */
  get context(): Context {
    return trace.setSpan(ROOT_CONTEXT, this.root);
  }

  onEvent(e: RunEvent): void {
    switch (e.type) {
      case "phase":
        this.startPhase(e.phase, e.note);
        return;
      case "probe":
        this.probe(e.record);
        return;
      case "activity-start":
        this.activities.set(e.name, {
          span: this.start(`activity: ${e.name}`, this.activityAttributes(e.name, e.kind), this.under()),
          start: Date.now(),
        });
        return;
      case "activity":
        this.activityEnded(e.record);
        return;
      case "fault-applied": {
        const opened = this.activities.get(e.fault.step);
        const span = this.start(
          `fault: ${e.fault.step}`,
          {
            ...this.activityAttributes(e.fault.step, "action"),
            "chaos.fault.description": e.fault.description,
          },
          this.under(this.method),
          opened?.start,
        );
        span.addEvent("applied", {}, new Date(e.fault.appliedAt));
        this.faults.set(e.fault.description, span);
        return;
      }
      case "rollback":
        this.rollback(e.record);
        return;
      case "abort":
        this.root.addEvent("aborted", { "chaos.reason": e.reason });
        this.root.setAttribute("chaos.run.abort_reason", e.reason);
        return;
    }
  }

  /**
   * Opens the span of a probe check as it starts, so that its requests can name it as their parent; the
   * check's `probe` event ends it. A probe step of the method is its activity's span already.
   */
  probeStarted(check: ProbeStart): Context {
    if (check.phase === "method") return this.under(this.activities.get(check.probe)?.span);
    const span = this.start(
      `activity: ${check.probe}`,
      {
        "chaos.activity.kind": "probe",
        "chaos.probe.name": check.probe,
        "chaos.probe.key": check.key,
        "chaos.phase": check.phase,
      },
      this.probeParent(check.phase),
      Date.parse(check.start),
    );
    this.probes.set(probeKey(check.phase, check.probe, check.start), span);
    return trace.setSpan(ROOT_CONTEXT, span);
  }

  /** Ends the trace of a run that stopped before it could judge (invalid input, a signal before injecting). */
  abandon(reason: string): void {
    this.closeOpen();
    this.root.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    this.root.end();
  }

  /** Ends every span still open, the run's last, with its verdict. */
  finish(journal: Journal): void {
    this.closeOpen();
    this.root.setAttributes({
      "chaos.run.verdict": journal.status,
      "chaos.run.exit_code": journal.exitCode,
      ...(journal.score === undefined ? {} : { "chaos.run.score": journal.score }),
      ...(journal.checks ? checkAttributes(journal.checks) : {}),
    });
    if (journal.status !== "held" && journal.status !== "completed")
      this.root.setStatus({ code: SpanStatusCode.ERROR, message: journal.reasons[0] ?? journal.status });
    this.root.end();
  }

  private closeOpen(): void {
    for (const [name, { span }] of this.activities) {
      span.setAttribute("chaos.activity.status", "unfinished");
      span.end();
      this.activities.delete(name);
    }
    for (const span of this.probes.values()) span.end();
    this.probes.clear();
    for (const span of this.faults.values()) {
      // A fault whose revert never came is still live: say so where the people on call will look.
      span.setAttribute("chaos.fault.reverted", false);
      span.setStatus({ code: SpanStatusCode.ERROR, message: "not reverted by the run" });
      span.end();
    }
    this.faults.clear();
    this.endPhase();
  }

  private start(name: string, attributes: Attributes, parent: Context, startTime?: number): Span {
    this.started++;
    return this.tracer.startSpan(name, { attributes, ...(startTime ? { startTime } : {}) }, parent);
  }

  private under(span?: Span): Context {
    return trace.setSpan(ROOT_CONTEXT, span ?? this.phase?.span ?? this.root);
  }

  private startPhase(phase: "before" | "method" | "rollbacks" | "after", note?: string): void {
    this.endPhase();
    const name = phase === "before" || phase === "after" ? "hypothesis" : phase;
    const span = this.start(
      name,
      { "chaos.phase": phase, ...(note ? { "chaos.phase.note": note } : {}) },
      this.under(this.root),
    );
    this.phase = { name: phase, span };
    if (phase === "method") this.method = span;
  }

  private endPhase(): void {
    this.phase?.span.end();
    this.phase = undefined;
  }

  private probe(r: ProbeRecord): void {
    const key = probeKey(r.phase, r.probe, r.start);
    const span =
      this.probes.get(key) ??
      this.start(
        `activity: ${r.probe}`,
        { "chaos.activity.kind": "probe", "chaos.probe.name": r.probe, "chaos.phase": r.phase },
        this.probeParent(r.phase),
        Date.parse(r.start),
      );
    this.probes.delete(key);
    span.setAttributes(probeAttributes(r));
    if (r.outcome === "error") span.setStatus({ code: SpanStatusCode.ERROR, message: r.reason });
    span.end(Date.parse(r.end));
  }

  /** Checks while faults are live and stop conditions sit in the method; the others in their hypothesis. */
  private probeParent(phase: ProbeRecord["phase"]): Context {
    if (phase === "during" || phase === "stop-when" || phase === "method") return this.under(this.method);
    return this.under();
  }

  private activityEnded(r: ActivityRecord): void {
    const opened = this.activities.get(r.name);
    this.activities.delete(r.name);
    const span =
      opened?.span ??
      this.start(
        `activity: ${r.name}`,
        this.activityAttributes(r.name, r.kind),
        this.under(this.method),
        Date.parse(r.start),
      );
    span.setAttributes({
      "chaos.activity.status": r.status,
      "chaos.activity.background": r.background,
      ...(r.error ? { "chaos.activity.error": r.error } : {}),
    });
    if (r.status === "failed" || r.status === "timed-out")
      span.setStatus({ code: SpanStatusCode.ERROR, message: r.error ?? r.status });
    span.end(Date.parse(r.end));
  }

  private rollback(r: RollbackRecord): void {
    const fault = r.source === "automatic" ? this.faults.get(r.description) : undefined;
    if (fault) {
      this.faults.delete(r.description);
      const ok = r.status === "succeeded";
      fault.addEvent(
        ok ? "reverted" : "revert failed",
        { ...(r.error ? { "chaos.error": r.error } : {}), ...(r.note ? { "chaos.note": r.note } : {}) },
        Date.parse(r.end),
      );
      fault.setAttribute("chaos.fault.reverted", ok);
      if (!ok) fault.setStatus({ code: SpanStatusCode.ERROR, message: r.error ?? "revert failed" });
      fault.end(Date.parse(r.end));
      return;
    }
    // The experiment's own rollback actions: one span each, as Chaos Toolkit records its rollbacks.
    const span = this.start(
      `activity: ${r.description}`,
      { "chaos.activity.kind": "rollback", "chaos.activity.status": r.status },
      this.under(),
      Date.parse(r.start),
    );
    if (r.error) span.setStatus({ code: SpanStatusCode.ERROR, message: r.error });
    span.end(Date.parse(r.end));
  }

  private activityAttributes(name: string, kind: string): Attributes {
    const step = this.experiment.method.find((s) => s.name === name);
    const attributes: Attributes = { "chaos.activity.name": name, "chaos.activity.kind": kind };
    if (step?.kind === "action") {
      attributes["chaos.action"] = step.ref;
      attributes["chaos.target"] = outputRedactor.text(JSON.stringify(step.target));
    } else if (step?.kind === "probe") {
      attributes["chaos.probe.key"] = step.probe.key;
    }
    return attributes;
  }
}

/** What identifies one probe check in both the event that starts it and the record that ends it. */
export function probeKey(phase: string, probe: string, start: string): string {
  return `${phase}\u0000${probe}\u0000${start}`;
}

function probeAttributes(r: ProbeRecord): Attributes {
  return {
    "chaos.probe.name": r.probe,
    "chaos.probe.key": r.key,
    "chaos.phase": r.phase,
    "chaos.outcome": r.outcome,
    "chaos.probe.ok": r.ok,
    "chaos.probe.reason": r.reason,
    ...(r.tolerance ? { "chaos.tolerance": r.tolerance } : {}),
    ...(typeof r.value === "number" ? { "chaos.probe.value": r.value } : {}),
    ...(r.summary ? { "chaos.probe.summary": r.summary } : {}),
  };
}

function checkAttributes(checks: NonNullable<Journal["checks"]>): Attributes {
  const out: Attributes = {};
  for (const [phase, counts] of Object.entries(checks)) {
    if (counts && typeof counts === "object")
      for (const [k, v] of Object.entries(counts))
        if (typeof v === "number") out[`chaos.checks.${phase}.${k}`] = v;
  }
  return out;
}

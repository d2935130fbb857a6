import { formatDuration } from "./duration.js";
import { NoAnswerError } from "./errors.js";
import type { Journal, ProbeRecord, RunStatus } from "./journal.js";
import type { Experiment, SteadyState, StopCondition } from "./model.js";

/**
 * What a run must have seen before its verdict may say anything: the evidence rules.
 *
 *   probe failure ─▶ no-answer: the system under test did not answer; a measurement, judged as a failure
 *                 └▶ error:     the probe could not be taken (e.g. Prometheus down); the run is blind: exit 4
 *   stop check    ─▶ met, or could not see (error, no answer, empty, NaN) ─▶ stop the method (fail closed),
 *                    unless the condition says `on-error: continue` (or `empty:` / `nan: continue`)
 *   verdict       ─▶ "held" only when a hypothesis check was taken while each fault was live (or the
 *                    experiment says `during: none`); with no hypothesis at all: "completed", nothing judged
 */

/** How the journal marks a stop-condition check that stopped the run because it could not see. */
export const COULD_NOT_SEE = "stopped: could not see";

/** How a probe that threw is recorded: the system failing to answer, or the probe failing to be taken. */
export function failureOutcome(err: unknown): "no-answer" | "error" {
  return err instanceof NoAnswerError ? "no-answer" : "error";
}

/** The probe could not be taken: the run cannot judge from it. */
export function isBlind(r: ProbeRecord): boolean {
  return r.outcome === "error";
}

/** Why the run cannot judge, for a hypothesis probe that could not be taken in `phase`. */
export function couldNotJudge(r: ProbeRecord, phase: "before" | "during" | "after"): string {
  return `could not judge: "${r.probe}" could not be taken ${phase === "during" ? "during the method" : `${phase} the method`}: ${r.reason}`;
}

export interface StopDecision {
  /** The check as the journal keeps it: ok while the condition is not met and the check could see. */
  record: ProbeRecord;
  /** Set when the run must stop: a met condition or a blind check (exit 3), or a probe not taken (exit 4). */
  stop?: { kind: Extract<AbortKind, "stop-condition" | "failure">; message: string };
}

/** What a stop-condition check saw that does not tell whether the condition is met, and how it is treated. */
const UNSEEN = {
  error: { words: "could not be checked", setting: (c: StopCondition) => c.onError },
  "no-answer": { words: "got no answer", setting: (c: StopCondition) => c.onError },
  // The series of an error ratio vanishes exactly when the service dies: nothing seen is not "not met".
  empty: { words: "saw an empty result", setting: (c: StopCondition) => c.onEmpty },
  nan: { words: "saw NaN", setting: (c: StopCondition) => c.onNaN },
} as const;

function unseen(r: ProbeRecord): keyof typeof UNSEEN | undefined {
  return r.outcome in UNSEEN ? (r.outcome as keyof typeof UNSEEN) : undefined;
}

/**
 * How a condition treats the checks that cannot see, in words (`chaos validate`, `chaos plan`): e.g.
 * "stops the run on an error, no answer, an empty result or NaN".
 */
export function blindnessText(cond: StopCondition): string {
  const names = { error: "an error", "no-answer": "no answer", empty: "an empty result", nan: "NaN" };
  const stops = (Object.keys(UNSEEN) as (keyof typeof UNSEEN)[]).filter(
    (k) => UNSEEN[k].setting(cond) === "stop",
  );
  const goes = (Object.keys(UNSEEN) as (keyof typeof UNSEEN)[]).filter((k) => !stops.includes(k));
  const list = (ks: (keyof typeof UNSEEN)[]) =>
    ks.length > 1
      ? `${ks
          .slice(0, -1)
          .map((k) => names[k])
          .join(", ")} or ${names[ks[ks.length - 1]!]}`
      : names[ks[0]!];
  if (goes.length === 0) return `stops the run on ${list(stops)}`;
  if (stops.length === 0) return `continues blind on ${list(goes)}`;
  return `stops the run on ${list(stops)}; continues blind on ${list(goes)}`;
}

/**
 * Judges one stop-condition check. A check that cannot see (the probe failed, the system did not answer, or
 * the probe yielded nothing or NaN) counts as met unless the condition says `continue` for it: a stop
 * condition must never fail open. Seeing nothing stops the run like a met condition (exit 3); a probe that
 * could not be taken (a monitoring outage) stops it as "could not judge" (exit 4), as it does anywhere else.
 */
export function judgeStopCheck(cond: StopCondition, r: ProbeRecord): StopDecision {
  if (r.outcome === "pass") {
    const record = { ...r, probe: cond.name, ok: false, outcome: "fail" as const };
    return {
      record: { ...record, reason: `stop condition met: ${r.reason}` },
      stop: { kind: "stop-condition", message: `stop condition "${cond.name}" met: ${r.reason}` },
    };
  }
  const blind = unseen(r);
  if (blind) {
    const record = { ...r, probe: cond.name, ok: false };
    if (UNSEEN[blind].setting(cond) === "continue") return { record };
    const what = UNSEEN[blind].words;
    return {
      record: { ...record, reason: `${COULD_NOT_SEE}: ${r.reason}` },
      stop: {
        kind: r.outcome === "error" ? "failure" : "stop-condition",
        message: `${COULD_NOT_SEE}: stop condition "${cond.name}" ${what}: ${r.reason}`,
      },
    };
  }
  return { record: { ...r, probe: cond.name, ok: true, outcome: r.outcome === "fail" ? "pass" : r.outcome } };
}

/** Why a run was cut short: a fail-fast deviation still yields a verdict, the others end it. */
export type AbortKind = "stop-condition" | "signal" | "fail-fast" | "failure";

/** What the controller knows when the run ends. */
export interface RunFacts {
  experiment: Experiment;
  journal: Journal;
  notSteady: boolean;
  deviated: boolean;
  errored: boolean;
  abort?: { kind: AbortKind; message: string };
  /** Reasons gathered on the way, in order. */
  reasons: string[];
}

/** The verdict and every reason for it, most important first. */
export function verdict(f: RunFacts): { status: RunStatus; reasons: string[] } {
  const steady = f.experiment.steadyState;
  const unobserved =
    steady && steady.during !== "none"
      ? unobservedFaults(f.journal, steady.during, f.experiment.source?.format === "chaostoolkit")
      : [];
  let status: RunStatus;
  if (f.errored) status = "error";
  else if (f.abort && f.abort.kind !== "fail-fast") status = "aborted";
  else if (f.notSteady) status = "not-steady";
  else if (f.deviated) status = "deviated";
  else if (!steady || neverChecked(steady)) status = "completed";
  else if (unobserved.length) status = "unobserved";
  else status = "held";

  const reasons = [...duringDeviations(f.journal), ...f.reasons, ...blindStopConditions(f)];
  if (f.abort) reasons.unshift(f.abort.message);
  if (status === "unobserved") reasons.push(...unobserved);
  if (status === "completed")
    reasons.push(
      steady
        ? "completed, nothing judged: the steady-state hypothesis is checked in no phase (before, during and after are none)"
        : "completed, nothing judged: the experiment has no steady-state hypothesis (a plain injection)",
    );
  if (status === "held" && steady) reasons.push(heldReason(steady));
  return { status, reasons: [...new Set(reasons)] };
}

const neverChecked = (s: SteadyState) => s.skip?.before && s.skip.after && s.during === "none";

/** Where the hypothesis held: the phases it was checked in, and why one was left out. */
function heldReason(steady: SteadyState): string {
  const phases = [
    steady.skip?.before ? undefined : "before",
    steady.during === "none" ? undefined : "during",
    steady.skip?.after ? undefined : "after",
  ].filter((p): p is string => p !== undefined);
  const left = [
    steady.skip?.before ? "before: none" : undefined,
    steady.during === "none" ? "during: none, not checked while faults were live" : undefined,
    steady.skip?.after ? "after: none" : undefined,
  ].filter(Boolean);
  const last = phases.pop();
  const when = phases.length ? `${phases.join(", ")} and ${last}` : last;
  return `the steady-state hypothesis held ${when} the method${left.length ? ` (${left.join("; ")})` : ""}`;
}

interface FaultWindow {
  label: string;
  from: number;
  to: number;
  /** An action with nothing to revert (a kill): it acts from its end until the method ends. */
  instant: boolean;
}

/** When a fault was live: applied → reverted; an action with nothing to revert acts until the method ends. */
function faultWindows(j: Journal): FaultWindow[] {
  const methodEnd = Math.max(0, ...j.method.map((a) => Date.parse(a.end)).filter(Number.isFinite));
  const end = (t?: string) => (t ? Date.parse(t) : Math.max(methodEnd, Date.parse(j.end) || 0));
  const withRevert = new Set(j.faults.map((f) => f.step));
  return [
    ...j.faults
      .filter((f) => f.appliedAt)
      .map((f) => ({ label: f.step, from: Date.parse(f.appliedAt), to: end(f.revertedAt), instant: false })),
    ...j.method
      .filter((a) => a.kind === "action" && a.status === "succeeded" && !withRevert.has(a.name))
      .map((a) => ({ label: a.name, from: Date.parse(a.end), to: methodEnd, instant: true })),
  ];
}

/** One reason per fault window in which no hypothesis check was taken (a blind check is no evidence). */
function unobservedFaults(
  j: Journal,
  during: { everyMs: number } | undefined,
  chaosToolkit = false,
): string[] {
  const checks = j.steadyState.during.filter((r) => !isBlind(r)).map((r) => Date.parse(r.start));
  const fix = (w: FaultWindow) =>
    !during
      ? chaosToolkit
        ? "this Chaos Toolkit hypothesis strategy does not check the hypothesis during the method (run with --hypothesis-strategy continuously or during-method-only, or --accept-unobserved to accept it)"
        : "the experiment has no during: block (add during: { every: 1s }, or during: none to accept it)"
      : w.instant
        ? `too little of the method was left after it (add a pause after it, longer than during: every ${formatDuration(during.everyMs)})`
        : `it was shorter than the interval (during: every ${formatDuration(during.everyMs)})`;
  return (
    faultWindows(j)
      // A check that starts as an action ends cannot have seen its effect: it must start after it.
      .filter((w) => !checks.some((t) => (w.instant ? t > w.from : t >= w.from) && t <= w.to))
      .map(
        (w) =>
          `not observed: no hypothesis check was taken while "${w.label}" was live (${formatDuration(Math.max(0, w.to - w.from))}); ${fix(w)}`,
      )
  );
}

/** One reason per probe that failed during the method: how often, the first and the last failure. */
function duringDeviations(j: Journal): string[] {
  const byProbe = new Map<string, ProbeRecord[]>();
  for (const r of j.steadyState.during) byProbe.set(r.probe, [...(byProbe.get(r.probe) ?? []), r]);
  const out: string[] = [];
  for (const [probe, records] of byProbe) {
    const failed = records.filter((r) => !r.ok && !isBlind(r));
    if (failed.length === 0) continue;
    const first = failed[0]!.reason;
    const last = failed[failed.length - 1]!.reason;
    const detail = failed.length === 1 || first === last ? first : `first ${first}; last ${last}`;
    out.push(
      `hypothesis deviated during the method: ${probe}: ${failed.length} of ${records.length} checks failed (${detail})`,
    );
  }
  return out;
}

/** A stop condition told to continue when blind left the run unprotected: say so, whatever the verdict. */
function blindStopConditions(f: RunFacts): string[] {
  return f.experiment.stopWhen.flatMap((cond) => {
    const checks = f.journal.stopConditions.filter((r) => r.probe === cond.name);
    // Only checks the condition let pass while blind: the others stopped the run and say so already.
    const blind = checks.filter((r) => {
      const kind = unseen(r);
      return kind !== undefined && UNSEEN[kind].setting(cond) === "continue";
    });
    if (blind.length === 0) return [];
    return [
      `stop condition "${cond.name}" could not be checked ${blind.length} of ${checks.length} times (${blind[0]!.reason})`,
    ];
  });
}

import type { ActivityRecord, Journal, Phase, ProbeRecord, RunStatus } from "../journal.js";
import type { Outcome } from "../tolerance.js";

/** Journals of every kind of run, built by hand for the report tests. Times are seconds from T0. */
const T0 = Date.parse("2025-01-15T10:00:00.000Z");
export const at = (s: number) => new Date(T0 + s * 1000).toISOString();

export const HOSTILE = `<script>alert("x")</script> ]]> a|b & 'q'\nsecond line \u0001\u0008 end`;

function sample(
  probe: string,
  phase: Phase,
  s: number,
  value: unknown,
  ok: boolean,
  opts: { outcome?: Outcome; reason?: string; tolerance?: string; key?: string } = {},
): ProbeRecord {
  const rec: ProbeRecord = {
    probe,
    key: opts.key ?? "prometheus",
    phase,
    start: at(s),
    end: at(s + 0.05),
    durationMs: 50,
    outcome: opts.outcome ?? (ok ? "pass" : "fail"),
    ok,
    reason:
      opts.reason ?? (ok ? `${String(value)} is within tolerance` : `${String(value)} is outside tolerance`),
    tolerance: opts.tolerance ?? "< 0.05",
  };
  if (value !== undefined) rec.value = value;
  return rec;
}

function activity(
  name: string,
  s: number,
  secs: number,
  status: ActivityRecord["status"],
  error?: string,
): ActivityRecord {
  return {
    name,
    kind: name.startsWith("pause") ? "pause" : "action",
    ref: name.startsWith("pause") ? undefined : "toxiproxy.latency",
    background: false,
    start: at(s),
    end: at(s + secs),
    durationMs: secs * 1000,
    status,
    ...(error ? { error } : {}),
  };
}

function base(status: RunStatus, exitCode: number, title = "payments survive 500ms latency"): Journal {
  return {
    $schema: "https://chaoskit.dev/schema/journal-v1.json",
    tool: { name: "chaoskit", version: "0.1.0" },
    runId: `run-${status}`,
    experiment: {
      title,
      file: "experiments/latency.yaml",
      tags: ["latency"],
      document: { version: 1, title },
    },
    start: at(0),
    end: at(40),
    durationMs: 40_000,
    status,
    exitCode,
    reasons: [],
    steadyState: { before: [], during: [], after: [] },
    stopConditions: [],
    method: [],
    faults: [],
    rollbacks: [],
  };
}

const statusProbe = (phase: Phase, s: number, value: unknown = 200, ok = true) =>
  sample("checkout answers", phase, s, value, ok, { key: "http", tolerance: "200" });

/** The hypothesis held throughout; one fault window, one stop condition that never fired. */
export function heldJournal(): Journal {
  const j = base("held", 0);
  j.reasons = ["the steady-state hypothesis held before, during and after the method"];
  j.steadyState.before = [sample("error rate", "before", 1, 0.01, true), statusProbe("before", 1)];
  for (let i = 0; i < 12; i++) {
    j.steadyState.during.push(sample("error rate", "during", 5 + i * 2, 0.01 + (i % 4) * 0.008, true));
    j.steadyState.during.push(statusProbe("during", 5 + i * 2));
  }
  j.steadyState.after = [sample("error rate", "after", 36, 0.012, true), statusProbe("after", 36)];
  j.stopConditions = [3, 13, 23].map((s) =>
    sample("p99 latency too high", "stop-when", s, 0.4, true, {
      tolerance: "> 2",
      reason: "0.4 does not match",
    }),
  );
  j.method = [activity("inject latency", 4, 0.2, "succeeded"), activity("pause 25s", 4.2, 25, "succeeded")];
  j.faults = [
    {
      step: "inject latency",
      ref: "toxiproxy.latency",
      description: "latency 500ms on payments",
      appliedAt: at(4.1),
      revertedAt: at(30),
    },
  ];
  j.rollbacks = [
    {
      description: "latency 500ms on payments",
      source: "automatic",
      start: at(30),
      end: at(30.1),
      durationMs: 100,
      status: "succeeded",
    },
  ];
  return j;
}

/** Deviated during the method: failures, NaN, Infinity, empty results, probe errors and hostile text. */
export function deviatedJournal(): Journal {
  const j = base("deviated", 1, `errors <script>alert(1)</script> | & ]]>`);
  j.reasons = [`hypothesis deviated during the method: error rate: ${HOSTILE}`];
  j.steadyState.before = [sample("error rate", "before", 1, 0.01, true), statusProbe("before", 1)];
  const during: [number, unknown, boolean, Outcome?][] = [
    [5, 0.01, true],
    [7, 0.02, true],
    [9, 0.09, false],
    [11, 0.31, false],
    [13, "NaN", false, "nan"],
    [15, null, false, "empty"],
    [17, "Infinity", false],
    [19, undefined, false, "error"],
    [21, 0.04, true],
    [23, "0.02", true],
  ];
  for (const [s, v, ok, outcome] of during) {
    j.steadyState.during.push(
      sample("error rate", "during", s, v, ok, {
        outcome,
        reason: outcome === "error" ? HOSTILE : undefined,
      }),
    );
  }
  j.steadyState.during.push(statusProbe("during", 9, 503, false), statusProbe("during", 19, true, true));
  j.steadyState.during.push(statusProbe("during", 21, "<b>teapot</b>", false));
  j.steadyState.after = [
    sample("error rate", "after", 32, 0.2, false),
    sample("error rate", "after", 34, 0.01, true),
    statusProbe("after", 34),
  ];
  j.method = [activity("inject latency", 4, 0.2, "succeeded"), activity("pause 20s", 4.2, 20, "succeeded")];
  j.faults = [
    {
      step: "inject latency",
      ref: "toxiproxy.latency",
      description: `latency 500ms | ${HOSTILE}`,
      appliedAt: at(4.1),
      revertedAt: at(25),
    },
    {
      step: "cut db",
      ref: "toxiproxy.timeout",
      description: "timeout on postgres",
      appliedAt: at(8),
      revertedAt: at(14),
    },
  ];
  j.rollbacks = j.faults.map((f) => ({
    description: f.description,
    source: "automatic" as const,
    start: at(25),
    end: at(25.2),
    durationMs: 200,
    status: "succeeded" as const,
  }));
  return j;
}

/** A stop condition fired: the method was cut short and the run aborted. */
export function abortedJournal(): Journal {
  const j = base("aborted", 3);
  j.reasons = [`stop condition "p99 latency too high" met: 2.7 matches > 2`];
  j.aborted = { reason: j.reasons[0] as string, at: at(12) };
  j.steadyState.before = [sample("error rate", "before", 1, 0.01, true)];
  j.steadyState.during = [5, 7, 9, 11].map((s) => sample("error rate", "during", s, 0.02, true));
  j.steadyState.after = [sample("error rate", "after", 14, 0.01, true)];
  j.stopConditions = [
    sample("p99 latency too high", "stop-when", 6, 0.8, true, { tolerance: "> 2" }),
    sample("p99 latency too high", "stop-when", 12, 2.7, false, {
      tolerance: "> 2",
      reason: "stop condition met: 2.7 matches > 2",
    }),
  ];
  j.method = [
    activity("inject latency", 4, 0.2, "succeeded"),
    activity("pause 30s", 4.2, 7.8, "aborted"),
    activity("inject loss", 12, 0, "skipped"),
  ];
  j.faults = [
    {
      step: "inject latency",
      ref: "toxiproxy.latency",
      description: "latency 500ms on payments",
      appliedAt: at(4.1),
      revertedAt: at(12.2),
    },
  ];
  j.rollbacks = [
    {
      description: "latency 500ms on payments",
      source: "automatic",
      start: at(12.1),
      end: at(12.2),
      durationMs: 100,
      status: "succeeded",
    },
  ];
  j.end = at(15);
  j.durationMs = 15_000;
  return j;
}

/** The run could not judge: an action failed and a rollback failed, leaving a fault that was never reverted. */
export function errorJournal(): Journal {
  const j = base("error", 4);
  j.reasons = [
    'action "inject latency" failed: connect ECONNREFUSED 127.0.0.1:8474',
    'rollback "restore" failed: revert refused',
  ];
  j.steadyState.before = [sample("error rate", "before", 1, 0.01, true)];
  j.method = [
    activity("inject latency", 4, 1, "failed", "connect ECONNREFUSED 127.0.0.1:8474"),
    activity("pause 10s", 5, 0, "skipped"),
  ];
  j.faults = [
    {
      step: "inject latency",
      ref: "toxiproxy.latency",
      description: "latency 500ms on payments",
      appliedAt: at(4.5),
    },
  ];
  j.rollbacks = [
    {
      description: "latency 500ms on payments",
      source: "automatic",
      start: at(6),
      end: at(6.5),
      durationMs: 500,
      status: "failed",
      error: "revert refused",
    },
  ];
  j.end = at(8);
  j.durationMs = 8000;
  return j;
}

/** The system failed its hypothesis before anything was injected. */
export function notSteadyJournal(): Journal {
  const j = base("not-steady", 1);
  j.reasons = ["not steady before the method: error rate: 0.4 is outside tolerance"];
  j.steadyState.before = [sample("error rate", "before", 1, 0.4, false)];
  j.method = [activity("inject latency", 2, 0, "skipped")];
  j.end = at(2);
  j.durationMs = 2000;
  return j;
}

/** Held before and after, but the fault was never checked while it was live. */
export function unobservedJournal(): Journal {
  const j = base("unobserved", 1);
  j.reasons = [
    'not observed: no hypothesis check was taken while "inject latency" was live (300ms); the experiment has no during: block',
  ];
  j.steadyState.before = [sample("error rate", "before", 1, 0.01, true)];
  j.steadyState.after = [sample("error rate", "after", 3, 0.01, true)];
  j.method = [activity("inject latency", 2, 0.3, "succeeded")];
  j.faults = [
    {
      step: "inject latency",
      ref: "toxiproxy.latency",
      description: "latency",
      appliedAt: at(2),
      revertedAt: at(2.3),
    },
  ];
  j.end = at(4);
  j.durationMs = 4000;
  return j;
}

/** A stop condition whose monitoring went blind stopped the run (fail closed): could not judge. */
export function blindStopJournal(): Journal {
  const j = base("error", 4);
  const why = "Prometheus at http://127.0.0.1:9090 failing: HTTP 500 (after 1 attempt)";
  j.reasons = [`stopped: could not see: stop condition "error budget" could not be checked: ${why}`];
  j.stopConditions = [
    sample("error budget", "stop-when", 2, 0.01, true, { tolerance: "> 0.5", outcome: "pass" }),
    sample("error budget", "stop-when", 3, undefined, false, {
      tolerance: "> 0.5",
      outcome: "error",
      reason: `stopped: could not see: ${why}`,
    }),
  ];
  j.end = at(4);
  j.durationMs = 4000;
  return j;
}

/** A plain injection: no hypothesis, nothing judged. */
export function completedJournal(): Journal {
  const j = base("completed", 0);
  j.reasons = [
    "completed, nothing judged: the experiment has no steady-state hypothesis (a plain injection)",
  ];
  j.method = [activity("inject latency", 1, 1, "succeeded")];
  j.end = at(3);
  j.durationMs = 3000;
  return j;
}

export const ALL_JOURNALS = {
  heldJournal,
  deviatedJournal,
  abortedJournal,
  errorJournal,
  notSteadyJournal,
  unobservedJournal,
  blindStopJournal,
  completedJournal,
};

/**
 * An outage as an http probe sees it: answers in ~10ms before, 5 of 7 checks timed out during the fault (one
 * slow answer in between), answers again after the rollback.
 */
export function outageJournal(): Journal {
  const j = base("deviated", 1, "checkout survives the payments outage");
  const tolerance = JSON.stringify({ status: 200, latency: "< 300ms" });
  const check = (phase: Phase, s: number, ms?: number): ProbeRecord => {
    const answered = ms !== undefined;
    const rec = sample("checkout answers", phase, s, answered ? 200 : undefined, answered && ms < 300, {
      key: "http",
      tolerance,
      outcome: answered ? undefined : "no-answer",
      reason: answered
        ? ms < 300
          ? "200 is within tolerance"
          : `latency ${ms}ms is not < 300ms`
        : "timed out after 1s",
    });
    if (answered) rec.summary = `200 in ${ms}ms`;
    else rec.durationMs = 1000;
    return rec;
  };
  j.steadyState.before = [check("before", 1, 10)];
  j.steadyState.during = [
    check("during", 5),
    check("during", 7),
    check("during", 9, 594),
    check("during", 11),
    check("during", 13),
    check("during", 15),
    check("during", 17, 12),
  ];
  j.steadyState.after = [check("after", 22, 11)];
  j.reasons = [
    'hypothesis deviated during the method: "checkout answers" failed 6 of 7 checks: timed out after 1s',
  ];
  j.method = [activity("kill payments", 4, 0.1, "succeeded"), activity("pause 14s", 4.1, 14, "succeeded")];
  j.faults = [
    {
      step: "stop payments",
      ref: "docker.stop",
      description: "start payments again",
      appliedAt: at(4),
      revertedAt: at(18.5),
    },
  ];
  j.end = at(24);
  j.durationMs = 24_000;
  return j;
}

import type { ActivityRecord, Journal, ProbeRecord } from "../journal.js";
import { escapeAttr, escapeXml } from "./escape.js";
import { lastOf, STATUS_LABEL, steadyProbes } from "./summary.js";
import { formatValue } from "./values.js";

interface TestCase {
  classname: string;
  name: string;
  ms: number;
  failure?: { message: string; type: string; body: string };
  error?: { message: string; type: string; body: string };
  skipped?: string;
  output?: string;
}

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

function probeCase(phase: "before" | "after", probe: string, records: ProbeRecord[]): TestCase | undefined {
  const { last, attempts } = lastOf(records, probe);
  if (!last) return undefined;
  const ms = records.filter((r) => r.probe === probe).reduce((sum, r) => sum + r.durationMs, 0);
  const tc: TestCase = {
    classname: `steady-state.${phase}`,
    name: probe,
    ms,
    output: `value: ${formatValue(last.value, 500)}\ntolerance: ${last.tolerance ?? "(none)"}\nchecks: ${attempts}`,
  };
  if (!last.ok)
    tc.failure = {
      message: last.reason,
      type: last.outcome,
      body: `${last.reason}\nvalue: ${formatValue(last.value, 500)}`,
    };
  return tc;
}

function duringCase(j: Journal): TestCase {
  const during = j.steadyState.during;
  const tc: TestCase = { classname: "steady-state.during", name: "hypothesis during method", ms: 0 };
  if (!during.length) return { ...tc, skipped: "no samples were taken during the method" };
  const failed = during.filter((r) => !r.ok);
  tc.output = `${during.length} samples, ${failed.length} failed`;
  if (failed.length) {
    const probes = [...new Set(failed.map((r) => r.probe))];
    tc.failure = {
      message: `${failed.length} of ${during.length} samples failed (${probes.join(", ")}): ${failed[0]?.reason}`,
      type: "deviated",
      body: failed.map((r) => `${r.start} ${r.probe} [${r.outcome}] ${r.reason}`).join("\n"),
    };
  }
  return tc;
}

function activityCase(a: ActivityRecord): TestCase {
  const tc: TestCase = { classname: `method.${a.kind}`, name: a.name, ms: a.durationMs };
  switch (a.status) {
    case "succeeded":
      return tc;
    case "skipped":
      return { ...tc, skipped: "not run" };
    case "aborted":
      return { ...tc, skipped: `aborted${a.error ? `: ${a.error}` : ""}` };
    default: {
      const message = a.error ?? a.status;
      return { ...tc, failure: { message, type: a.status, body: message } };
    }
  }
}

/** The verdict as its own test case, so the suite fails exactly when the exit code says so. */
function verdictCase(j: Journal): TestCase {
  const tc: TestCase = { classname: "run", name: "verdict", ms: j.durationMs };
  const message = `${STATUS_LABEL[j.status]}: ${j.reasons.join("; ") || "no reason recorded"}`;
  const body = j.reasons.join("\n");
  if (j.status === "aborted" || j.status === "error")
    return { ...tc, error: { message, type: j.status, body } };
  if (j.exitCode !== 0) return { ...tc, failure: { message, type: j.status, body } };
  return tc;
}

function renderCase(tc: TestCase): string {
  const open = `    <testcase classname="${escapeAttr(tc.classname)}" name="${escapeAttr(tc.name)}" time="${seconds(tc.ms)}"`;
  const inner: string[] = [];
  for (const [tag, f] of [
    ["failure", tc.failure],
    ["error", tc.error],
  ] as const) {
    if (f)
      inner.push(
        `      <${tag} message="${escapeAttr(f.message)}" type="${escapeAttr(f.type)}">${escapeXml(f.body)}</${tag}>`,
      );
  }
  if (tc.skipped !== undefined) inner.push(`      <skipped message="${escapeAttr(tc.skipped)}"/>`);
  if (tc.output) inner.push(`      <system-out>${escapeXml(tc.output)}</system-out>`);
  return inner.length ? `${open}>\n${inner.join("\n")}\n    </testcase>` : `${open}/>`;
}

/**
 * Renders a journal as JUnit XML: one test suite for the experiment; a test case per steady-state probe per
 * phase, one for the hypothesis during the method, one per method activity and one for the verdict (an
 * `<error>` when the run was aborted or could not judge). Never throws.
 */
export function renderJUnit(j: Journal): string {
  const probes = steadyProbes(j);
  const cases: TestCase[] = [
    ...(["before", "after"] as const).flatMap((phase) =>
      probes.flatMap((p) => probeCase(phase, p, j.steadyState[phase]) ?? []),
    ),
    duringCase(j),
    ...j.method.map(activityCase),
    verdictCase(j),
  ];
  const count = (pick: (tc: TestCase) => unknown) => cases.filter(pick).length;
  const totals = `tests="${cases.length}" failures="${count((c) => c.failure)}" errors="${count((c) => c.error)}" skipped="${count((c) => c.skipped !== undefined)}" time="${seconds(j.durationMs)}"`;
  const name = escapeAttr(j.experiment.title);
  const props = [
    ["run.id", j.runId],
    ["run.status", j.status],
    ["run.exitCode", String(j.exitCode)],
    ["experiment.file", j.experiment.file],
    ["tool.version", `${j.tool.name} ${j.tool.version}`],
  ]
    .map(([k, v]) => `      <property name="${escapeAttr(k ?? "")}" value="${escapeAttr(v ?? "")}"/>`)
    .join("\n");
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="chaoskit" ${totals}>`,
    `  <testsuite name="${name}" ${totals} timestamp="${escapeAttr(j.start)}">`,
    "    <properties>",
    props,
    "    </properties>",
    ...cases.map(renderCase),
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}

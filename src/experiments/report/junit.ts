import { checksText, figuresOf, figuresText, scoreText, tally } from "../checks.js";
import type { ActivityRecord, Journal, ProbeRecord } from "../journal.js";
import { escapeAttr, escapeXml } from "./escape.js";
import { lastOf, namesOf, STATUS_LABEL, steadyProbes } from "./summary.js";
import { formatWithUnit } from "./values.js";

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
  const { last } = lastOf(records, probe);
  if (!last) return undefined;
  const mine = records.filter((r) => r.probe === probe);
  const ms = spanMs(mine);
  const tc: TestCase = {
    classname: `steady-state.${phase}`,
    name: probe,
    ms,
    output: `value: ${formatWithUnit(last.value, last.unit, 500)}\ntolerance: ${last.tolerance ?? "(none)"}\n${checksText(tally(mine))}`,
  };
  if (!last.ok)
    tc.failure = {
      message: last.reason,
      type: last.outcome,
      body: `${last.reason}\nvalue: ${formatWithUnit(last.value, last.unit, 500)}`,
    };
  return tc;
}

/** The time a series of checks took, first start to last end: the testcase's real time. */
function spanMs(records: ProbeRecord[]): number {
  const from = Math.min(...records.map((r) => Date.parse(r.start)));
  const to = Math.max(...records.map((r) => Date.parse(r.end)));
  return Number.isFinite(from) && Number.isFinite(to) ? to - from : 0;
}

/** One testcase per probe for the hypothesis during the method, counted as every report counts: by check. */
function duringCases(j: Journal): TestCase[] {
  const during = j.steadyState.during;
  const classname = "steady-state.during";
  if (!during.length) {
    return [
      { classname, name: "hypothesis during method", ms: 0, skipped: "no check was taken during the method" },
    ];
  }
  return namesOf(during).map((probe) => {
    const mine = during.filter((r) => r.probe === probe);
    const failed = mine.filter((r) => !r.ok);
    const tc: TestCase = { classname, name: probe, ms: spanMs(mine), output: checksText(tally(mine)) };
    if (failed.length) {
      tc.failure = {
        message: `${failed.length} of ${mine.length} checks failed: ${failed[0]?.reason}`,
        type: "deviated",
        body: failed.map((r) => `${r.start} [${r.outcome}] ${r.reason}`).join("\n"),
      };
    }
    return tc;
  });
}

function activityCase(j: Journal, a: ActivityRecord): TestCase {
  const tc: TestCase = { classname: `method.${a.kind}`, name: a.name, ms: a.durationMs };
  switch (a.status) {
    case "succeeded":
      return tc;
    case "skipped":
      return { ...tc, skipped: "not run" };
    case "aborted": {
      // It ran until the abort cut it short (a fault may well have been live): it acted, it was not skipped.
      const fault = j.faults.find((f) => f.step === a.name && f.appliedAt);
      const live = fault
        ? `, its fault live from ${fault.appliedAt}${fault.revertedAt ? ` to ${fault.revertedAt}` : ""}`
        : "";
      return {
        ...tc,
        output: `ran for ${seconds(a.durationMs)}s${live}, then the run was aborted${a.error ? `: ${a.error}` : ""}`,
      };
    }
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
  const body = [...j.reasons, figuresText(j)].join("\n");
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

interface Suite {
  xml: string[];
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

/** One journal as one `<testsuite>`. */
function suiteOf(j: Journal): Suite {
  const probes = steadyProbes(j);
  const cases: TestCase[] = [
    ...(["before", "after"] as const).flatMap((phase) =>
      probes.flatMap((p) => probeCase(phase, p, j.steadyState[phase]) ?? []),
    ),
    ...duringCases(j),
    ...j.method.map((a) => activityCase(j, a)),
    verdictCase(j),
  ];
  const count = (pick: (tc: TestCase) => unknown) => cases.filter(pick).length;
  const suite = {
    tests: cases.length,
    failures: count((c) => c.failure),
    errors: count((c) => c.error),
    skipped: count((c) => c.skipped !== undefined),
    ms: j.durationMs,
  };
  const name = escapeAttr(j.experiment.title);
  const figures = figuresOf(j);
  const props = [
    ["run.id", j.runId],
    ["run.status", j.status],
    ["run.exitCode", String(j.exitCode)],
    ["run.score", scoreText(figures.score).replace("%", "")],
    ["checks.total", String(figures.checks.hypothesis.total)],
    ["checks.failed", String(figures.checks.hypothesis.failed)],
    ["experiment.file", j.experiment.file],
    ["tool.version", `${j.tool.name} ${j.tool.version}`],
  ]
    .map(([k, v]) => `      <property name="${escapeAttr(k ?? "")}" value="${escapeAttr(v ?? "")}"/>`)
    .join("\n");
  return {
    ...suite,
    xml: [
      `  <testsuite name="${name}" ${totals(suite)} timestamp="${escapeAttr(j.start)}">`,
      "    <properties>",
      props,
      "    </properties>",
      ...cases.map(renderCase),
      "  </testsuite>",
    ],
  };
}

function totals(s: Omit<Suite, "xml">): string {
  return `tests="${s.tests}" failures="${s.failures}" errors="${s.errors}" skipped="${s.skipped}" time="${seconds(s.ms)}"`;
}

/**
 * Renders journals as JUnit XML: one test suite per experiment run (one for `chaos run` of one file, one per
 * file for a suite); in each, a test case per steady-state probe per phase, one per probe for the hypothesis
 * during the method, one per method activity and one for the verdict (an `<error>` when the run was aborted
 * or could not judge). Never throws.
 */
export function renderJUnit(journals: Journal | readonly Journal[]): string {
  const suites = [journals].flat().map(suiteOf);
  const sum = (k: "tests" | "failures" | "errors" | "skipped" | "ms") => suites.reduce((n, s) => n + s[k], 0);
  const all = {
    tests: sum("tests"),
    failures: sum("failures"),
    errors: sum("errors"),
    skipped: sum("skipped"),
    ms: sum("ms"),
  };
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="chaoskit" ${totals(all)}>`,
    ...suites.flatMap((s) => s.xml),
    "</testsuites>",
    "",
  ].join("\n");
}

import { figuresText } from "../checks.js";
import { formatDuration } from "../duration.js";
import type { Journal, ProbeRecord } from "../journal.js";
import { probeTableCells } from "./probe-table.js";
import { lastOf, STATUS_LABEL, statsOf, steadyProbes, triggeredStops } from "./summary.js";
import { formatNumber, formatWithUnit } from "./values.js";

const CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g;

/** Text safe in Markdown and in the HTML GitHub allows in it: no tags, no line breaks, no control characters. */
export function text(s: string): string {
  return s
    .replace(CONTROL, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r?\n|\r/g, " ");
}

/** A table cell: also no `|`, which would split the cell, and line breaks kept as <br>. */
export function cell(s: string): string {
  return s
    .replace(CONTROL, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/\r?\n|\r/g, "<br>");
}

export function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
    "",
  ];
}

export function time(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "Z");
}

function probeRow(probe: string, phase: string, records: ProbeRecord[]): string[] | undefined {
  const { last, attempts } = lastOf(records, probe);
  if (!last) return undefined;
  const outcome = `${last.ok ? "PASS" : last.outcome.toUpperCase()}${attempts > 1 ? ` after ${attempts} checks` : ""}`;
  return [probe, phase, outcome, formatWithUnit(last.value, last.unit), last.tolerance ?? "", last.reason];
}

function steadyState(j: Journal): string[] {
  const probes = steadyProbes(j);
  if (!probes.length) return ["## Steady state", "", "No steady-state probes.", ""];
  const rows = probes.flatMap((p) =>
    (["before", "after"] as const).flatMap((phase) => {
      const row = probeRow(p, phase, j.steadyState[phase]);
      return row ? [row] : [];
    }),
  );
  const out = ["## Steady state", ""];
  if (rows.length) out.push(...table(["Probe", "Phase", "Outcome", "Value", "Tolerance", "Reason"], rows));
  const during = j.steadyState.during;
  out.push("### During the method", "");
  if (!during.length) return [...out, "No check was taken during the method.", ""];
  const duringRows = probes.map((p) => {
    const s = statsOf(during.filter((r) => r.probe === p));
    return [
      p,
      String(s.samples),
      String(s.failures),
      s.min === undefined ? "" : formatNumber(s.min),
      s.max === undefined ? "" : formatNumber(s.max),
      s.firstFailure ? `${time(s.firstFailure.start)}: ${s.firstFailure.reason}` : "",
    ];
  });
  return [...out, ...table(["Probe", "Checks", "Failed", "Min", "Max", "First failure"], duringRows)];
}

/** The same summary the terminal ends with: each probe's checks per phase, worst value and tolerance. */
function summary(j: Journal): string[] {
  const rows = probeTableCells(j);
  if (!rows.length) return [];
  return [
    "## Summary",
    "",
    ...table(["Probe", "Kind", "Before", "During", "After", "Worst", "Tolerance"], rows),
  ];
}

function method(j: Journal): string[] {
  if (!j.method.length) return [];
  const rows = j.method.map((a) => [
    a.name,
    a.kind + (a.background ? " (background)" : ""),
    a.status,
    formatDuration(a.durationMs),
    a.error ?? "",
  ]);
  return ["## Method", "", ...table(["Activity", "Kind", "Status", "Duration", "Error"], rows)];
}

function faults(j: Journal): string[] {
  if (!j.faults.length) return [];
  const rows = j.faults.map((f) => {
    const ms = f.revertedAt ? Date.parse(f.revertedAt) - Date.parse(f.appliedAt) : undefined;
    return [
      f.description,
      f.step,
      time(f.appliedAt),
      f.revertedAt ? time(f.revertedAt) : "NOT REVERTED",
      ms === undefined || Number.isNaN(ms) ? "" : formatDuration(ms),
    ];
  });
  return ["## Faults", "", ...table(["Fault", "Step", "Applied", "Reverted", "Window"], rows)];
}

function rollbacks(j: Journal): string[] {
  if (!j.rollbacks.length) return [];
  const rows = j.rollbacks.map((r) => [
    r.description,
    r.source,
    r.status,
    formatDuration(r.durationMs),
    r.error ?? "",
  ]);
  return ["## Rollbacks", "", ...table(["Rollback", "Source", "Status", "Duration", "Error"], rows)];
}

function stopConditions(j: Journal): string[] {
  if (!j.stopConditions.length) return [];
  const met = triggeredStops(j);
  const checks = `${j.stopConditions.length} check${j.stopConditions.length === 1 ? "" : "s"}`;
  if (!met.length) return ["## Stop conditions", "", `None triggered (${checks}).`, ""];
  const rows = met.map((r) => [r.probe, time(r.start), formatWithUnit(r.value, r.unit), r.reason]);
  return [
    "## Stop conditions",
    "",
    `Triggered ${met.length} time${met.length === 1 ? "" : "s"} (${checks}).`,
    "",
    ...table(["Condition", "At", "Value", "Reason"], rows),
  ];
}

/** Renders a journal as GitHub-flavoured Markdown, suitable for a CI step summary. Never throws. */
export function renderMarkdown(j: Journal): string {
  const lines = [
    `# Chaos experiment: ${text(j.experiment.title)}`,
    "",
    `**Verdict: ${STATUS_LABEL[j.status]}** · exit code ${j.exitCode} · ${formatDuration(j.durationMs)} · run \`${text(j.runId).replace(/`/g, "'")}\``,
    "",
    `${figuresText(j)}`,
    "",
    `Started ${time(j.start)}, ended ${time(j.end)}${j.experiment.file ? `, experiment file \`${text(j.experiment.file).replace(/`/g, "'")}\`` : ""}.`,
    "",
  ];
  if (j.aborted) lines.push(`**Aborted** at ${time(j.aborted.at)}: ${text(j.aborted.reason)}`, "");
  if (j.reasons.length) lines.push("Reasons:", "", ...j.reasons.map((r) => `- ${text(r)}`), "");
  lines.push(
    ...summary(j),
    ...steadyState(j),
    ...method(j),
    ...faults(j),
    ...rollbacks(j),
    ...stopConditions(j),
  );
  return `${lines.join("\n").trimEnd()}\n`;
}

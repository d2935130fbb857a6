import { figuresOf, figuresText } from "../experiments/checks.js";
import { formatDuration } from "../experiments/duration.js";
import type { Journal } from "../experiments/journal.js";
import { faultRows, probeTableCells } from "../experiments/report/probe-table.js";
import { STATUS_LABEL } from "../experiments/report/summary.js";
import type { Paint } from "./event-lines.js";

/** Left-aligned columns, two spaces apart. */
export function columns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  }
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - [...c].length)))
      .join("  ")
      .trimEnd(),
  );
}

/** The verdict line alone: what `--quiet` prints. */
export function verdictLine(j: Journal, p: Paint): string {
  const { score } = figuresOf(j);
  const paint =
    j.status === "held" ? p.green : j.status === "aborted" || j.status === "completed" ? p.yellow : p.red;
  return `${p.bold("verdict:")} ${paint(p.bold(STATUS_LABEL[j.status]))} ${p.dim(`(exit ${j.exitCode}, ${formatDuration(j.durationMs)}${score === undefined ? "" : `, resilience score ${score}%`})`)}`;
}

/**
 * The closing summary, as k6 ends a run: each probe with its checks per phase, worst value and tolerance; the
 * faults with their windows; the checks and the resilience score; the verdict with its reasons; the files.
 */
export function summaryLines(j: Journal, files: string[], p: Paint): string[] {
  const out: string[] = [""];
  const probes = probeTableCells(j);
  if (probes.length) {
    out.push(
      ...columns([["probe", "kind", "before", "during", "after", "worst", "tolerance"], ...probes]).map(
        (l, i) => `  ${i === 0 ? p.dim(l) : l}`,
      ),
      "",
    );
  }
  const faults = faultRows(j);
  if (faults.length) {
    out.push(
      ...columns([["fault", "live", "undo"], ...faults.map((f) => [f.fault, f.window, f.undo])]).map(
        (l, i) => `  ${i === 0 ? p.dim(l) : l}`,
      ),
      "",
    );
  }
  out.push(`  ${figuresText(j)}`, "", verdictLine(j, p));
  for (const r of j.reasons) out.push(`  - ${r}`);
  for (const f of files) out.push(`  ${p.dim(f)}`);
  return out;
}

import { type Tally, tally } from "../checks.js";
import type { Journal, ProbeRecord } from "../journal.js";
import { steadyProbes } from "./summary.js";
import { extentOf, formatNumber, formatWithUnit, numbersOf, toleranceText, unitSuffix } from "./values.js";

/** One row of the closing summary (terminal and Markdown): a probe's checks per phase and its worst value. */
export interface ProbeRow {
  probe: string;
  kind: "hypothesis" | "stop condition";
  before?: Tally;
  during?: Tally;
  after?: Tally;
  worst: string;
  tolerance: string;
}

/**
 * The worst value a probe showed. Which end is worse comes from the tolerance: the largest under `<`
 * (latency, error ratios), the smallest under `>`; otherwise a failed check's value, else the latest one.
 */
export function worstOf(records: readonly ProbeRecord[]): string {
  if (!records.length) return "";
  const failed = records.filter((r) => !r.ok);
  const pool = failed.length ? failed : records;
  const tolerance = (records[0]?.tolerance ?? "").trim();
  const extent = extentOf(pool.flatMap((r) => numbersOf(r.value)));
  const unit = unitSuffix(records[0]?.unit);
  if (extent && tolerance.startsWith("<")) return formatNumber(extent.max) + unit;
  if (extent && tolerance.startsWith(">")) return formatNumber(extent.min) + unit;
  const pick = failed[0] ?? records[records.length - 1];
  return pick?.value === undefined ? (pick?.outcome ?? "") : formatWithUnit(pick.value, pick.unit, 40);
}

const phaseTally = (records: ProbeRecord[], probe: string): Tally | undefined => {
  const mine = records.filter((r) => r.probe === probe);
  return mine.length ? tally(mine) : undefined;
};

/** The rows of every hypothesis probe, then every stop condition, in the order the run first checked them. */
export function probeRows(j: Journal): ProbeRow[] {
  const { before, during, after } = j.steadyState;
  const rows: ProbeRow[] = steadyProbes(j).map((probe) => {
    const mine = [...before, ...during, ...after].filter((r) => r.probe === probe);
    return {
      probe,
      kind: "hypothesis",
      before: phaseTally(before, probe),
      during: phaseTally(during, probe),
      after: phaseTally(after, probe),
      worst: worstOf(mine),
      tolerance: toleranceText(mine[0]?.tolerance),
    };
  });
  for (const probe of [...new Set(j.stopConditions.map((r) => r.probe))]) {
    const mine = j.stopConditions.filter((r) => r.probe === probe);
    rows.push({
      probe,
      kind: "stop condition",
      during: tally(mine),
      worst: worstOf(mine),
      tolerance: toleranceText(mine[0]?.tolerance),
    });
  }
  return rows;
}

/** "12 ✓" or "12, 3 failed" — a phase's cell; empty when the probe was not checked in that phase. */
export function tallyCell(t: Tally | undefined): string {
  if (!t) return "–";
  return t.failed ? `${t.total}, ${t.failed} failed` : `${t.total} ok`;
}

/** The faults as the summary lists them: what was done (action and step), its undo, and the window it was live. */
export function faultRows(j: Journal): { fault: string; undo: string; window: string }[] {
  return j.faults.map((f) => {
    const from = Date.parse(f.appliedAt);
    const to = f.revertedAt ? Date.parse(f.revertedAt) : Number.NaN;
    const clock = (iso: string) => /T(\d\d:\d\d:\d\d)/.exec(iso)?.[1] ?? iso;
    const window = !f.appliedAt
      ? "never applied"
      : f.revertedAt
        ? `${clock(f.appliedAt)} → ${clock(f.revertedAt)} (${formatNumber((to - from) / 1000)}s)`
        : `${clock(f.appliedAt)} → NOT REVERTED`;
    return { fault: faultLabel(f.ref, f.step), undo: f.description, window };
  });
}

/** The probe summary as table cells (probe, kind, before, during, after, worst, tolerance), one row per probe. */
export function probeTableCells(j: Journal): string[][] {
  return probeRows(j).map((r) => [
    r.probe,
    r.kind,
    tallyCell(r.before),
    tallyCell(r.during),
    tallyCell(r.after),
    r.worst,
    r.tolerance,
  ]);
}

/** "toxiproxy.latency: slow payments"; an unnamed step is named by its action, said once. */
export function faultLabel(ref: string, step: string): string {
  return step === ref ? ref : `${ref}: ${step}`;
}

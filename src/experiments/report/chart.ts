import type { ProbeRecord } from "../journal.js";
import { redactThenCut } from "../redact.js";
import { escapeXml } from "./escape.js";
import { linear, niceDomain, offsetLabel, timeTicks } from "./scale.js";
import { extentOf, formatNumber, formatWithUnit, numbersOf } from "./values.js";

/** A shaded span of time: a fault from applied to reverted (`to` absent: never reverted). */
export interface TimeWindow {
  label: string;
  from: number;
  to?: number;
}

/** A vertical marker on the time axis, e.g. where the method starts. */
export interface TimeMarker {
  label: string;
  at: number;
}

export interface ChartInput {
  /** Unique within the page: it prefixes the SVG's pattern ids. */
  id: string;
  title: string;
  records: ProbeRecord[];
  /** Epoch ms of the left and right edges (the run's start and end). */
  domain: [number, number];
  windows: TimeWindow[];
  markers: TimeMarker[];
  tolerance?: string;
  /** How the tolerance's bounds are labelled: "tolerance" for the hypothesis, "stop when" for a stop condition. */
  boundLabel?: string;
  /** The y axis's title, with its unit: "HTTP status", "latency (ms)", "value". */
  yTitle?: string;
  /** Instant faults (a kill): marked on the time axis, as they have no window. */
  instants?: TimeMarker[];
  /**
   * Where samples without a value (no answer, a probe error) go: a lane under the plot (default), or, for a
   * chart of how long answers took, a lane above it, where a check that got no answer reads as the worst.
   */
  missingLane?: { at: "top" | "bottom"; label: string };
  /**
   * The values are categories (HTTP status codes), not a scale: each value seen gets a row of its own, and
   * no line joins the marks.
   */
  categorical?: boolean;
}

export const COLORS = {
  ok: "#15803d",
  fail: "#dc2626",
  nan: "#c2410c",
  empty: "#6b7280",
  line: "#94a3b8",
  fault: "#f59e0b",
  recovering: "#d97706",
  threshold: "#7c3aed",
  grid: "#e5e7eb",
  axis: "#374151",
};

const W = 880;
const LEFT = 64;
const RIGHT = 16;
const PLOT_H = 150;
const LANE_H = 26;
const LABEL_ROW = 15;
/** Width of a character of an 11px label, generously: labels are placed so that none is cut at an edge. */
const CHAR_W = 6.6;

/** x and anchor of a label at `x` that must stay inside the plot's right edge. */
function inside(x: number, text: string, size = 11): { x: number; anchor: "start" | "end" } {
  const width = text.length * CHAR_W * (size / 11);
  return x + 3 + width <= W - 2
    ? { x: x + 3, anchor: "start" }
    : { x: Math.max(width, x - 3), anchor: "end" };
}

interface Threshold {
  lo: number;
  hi?: number;
  label: string;
}

const OP = /^\s*(<=|>=|==|<|>)\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*$/;

/** Bounds a tolerance draws as lines or a band: "< 0.3", [0, 0.01], { value: "< 0.3" }, { range: [a, b] }. */
export function thresholdsOf(tolerance: string | undefined): Threshold[] {
  if (!tolerance) return [];
  const op = OP.exec(tolerance);
  if (op) return [{ lo: Number(op[2]), label: tolerance.trim() }];
  let spec: unknown;
  try {
    spec = JSON.parse(tolerance);
  } catch {
    return [];
  }
  const range = (v: unknown): Threshold[] =>
    Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === "number")
      ? [{ lo: v[0] as number, hi: v[1] as number, label: `[${v[0]}, ${v[1]}]` }]
      : [];
  if (Array.isArray(spec)) return range(spec);
  if (spec && typeof spec === "object") {
    const o = spec as Record<string, unknown>;
    return [...(typeof o.value === "string" ? thresholdsOf(o.value) : []), ...range(o.range)];
  }
  return [];
}

/** Greedy label tracks so window labels that would overlap go on separate rows. */
function labelRows(windows: { x0: number; width: number }[]): number[] {
  const ends: number[] = [];
  return windows.map((w) => {
    let row = ends.findIndex((end) => end <= w.x0);
    if (row < 0) row = ends.length;
    ends[row] = w.x0 + w.width + 6;
    return row;
  });
}

function laneMarker(r: ProbeRecord, x: number, y: number, recovering: boolean): string {
  const tip = tooltip(r, recovering);
  if (recovering)
    return `<circle class="pt-recovering" cx="${x}" cy="${y}" r="4" fill="#fff" stroke="${COLORS.recovering}" stroke-width="1.8">${tip}</circle>`;
  if (r.outcome === "error" || r.outcome === "no-answer")
    return `<path class="pt-error" d="M${x - 4},${y - 4}L${x + 4},${y + 4}M${x - 4},${y + 4}L${x + 4},${y - 4}" stroke="${COLORS.fail}" stroke-width="2.2">${tip}</path>`;
  if (r.outcome === "empty")
    return `<rect class="pt-empty" x="${x - 4}" y="${y - 4}" width="8" height="8" fill="#fff" stroke="${COLORS.empty}" stroke-width="1.8">${tip}</rect>`;
  if (r.outcome === "nan")
    return `<path class="pt-nan" d="M${x},${y - 5}L${x + 5},${y + 4}L${x - 5},${y + 4}Z" fill="#fff" stroke="${COLORS.nan}" stroke-width="1.8">${tip}</path>`;
  return `<circle class="pt-other" cx="${x}" cy="${y}" r="4" fill="#fff" stroke="${r.ok ? COLORS.ok : COLORS.fail}" stroke-width="1.8">${tip}</circle>`;
}

function tooltip(r: ProbeRecord, recovering = false): string {
  const value = r.value === undefined ? "(no value)" : formatWithUnit(r.value, r.unit, 200);
  const state = r.ok ? "ok" : recovering ? `recovering (${r.outcome})` : r.outcome;
  return `<title>${escapeXml(`${r.start} [${r.phase}] ${state}\nvalue: ${value}\n${r.reason}`)}</title>`;
}

const f1 = (n: number) => Number(n.toFixed(1));

/** A y scale over the values' range, with round ticks. */
function valueScale(values: number[], top: number): { y?: (v: number) => number; ticks: number[] } {
  const bounds = extentOf(values);
  if (!bounds) return { ticks: [] };
  const extent = niceDomain(bounds.min, bounds.max, 4);
  return { y: linear(extent.lo, extent.hi, top + PLOT_H, top), ticks: extent.ticks };
}

/** A row per value seen (HTTP status codes), lowest at the bottom: codes are names, not quantities. */
function categoryScale(values: number[], top: number): { y?: (v: number) => number; ticks: number[] } {
  const seen = [...new Set(values)].sort((a, b) => a - b);
  if (!seen.length) return { ticks: [] };
  const row = PLOT_H / Math.max(seen.length, 3);
  const base = top + PLOT_H - (PLOT_H - row * seen.length) / 2;
  return { y: (v) => base - (seen.indexOf(v) + 0.5) * row, ticks: seen };
}

/** The usual time between two checks (the median step), for telling a gap from the rhythm of the probe. */
function typicalStep(times: number[]): number {
  const steps = times
    .slice(1)
    .map((t, i) => t - (times[i] ?? t))
    .filter((d) => d > 0)
    .sort((a, b) => a - b);
  return steps.length ? (steps[Math.floor(steps.length / 2)] as number) : Number.POSITIVE_INFINITY;
}

/** Renders one probe's series as an inline SVG chart. Never throws; all text is escaped. */
export function renderChart(input: ChartInput): string {
  const [t0, t1raw] = input.domain;
  const t1 = t1raw > t0 ? t1raw : t0 + 1000;
  const span = t1 - t0;
  const x = linear(t0, t1, LEFT, W - RIGHT);
  const clampT = (t: number) => Math.min(t1, Math.max(t0, t));

  const points = input.records.map((r) => ({ r, t: clampT(Date.parse(r.start)), nums: numbersOf(r.value) }));
  // The after phase retries until the hypothesis holds: failures before a recovery within after.within are
  // the system recovering, not deviating.
  const after = input.records.filter((r) => r.phase === "after");
  const recovered = after.length > 0 && after[after.length - 1]!.ok;
  const recovering = (r: ProbeRecord) => recovered && r.phase === "after" && !r.ok;
  const numeric = points.filter((p) => p.nums.length && p.r.outcome !== "error");
  const isNumeric = new Set(numeric);
  const others = points.filter((p) => !isNumeric.has(p));
  const thresholds = input.categorical ? [] : thresholdsOf(input.tolerance);

  // Window labels sit above the plot, on as many rows as they need.
  const windows = input.windows.map((w) => {
    const x0 = f1(x(clampT(w.from)));
    const x1 = f1(x(clampT(w.to ?? t1)));
    const text = `${w.label}${w.to === undefined ? " (not reverted)" : ""}`;
    const shown = redactThenCut(text, 48);
    const place = inside(x0, shown);
    const lx = place.anchor === "start" ? place.x - 3 : place.x - shown.length * CHAR_W;
    return { w, x0, x1, text, shown, width: shown.length * CHAR_W, lx, place };
  });
  const rows = labelRows(windows.map((w) => ({ x0: w.lx, width: w.width })));
  const lane = input.missingLane ?? { at: "bottom", label: "no value" };
  const laneAbove = others.length > 0 && lane.at === "top";
  const areaTop = 10 + (windows.length ? (Math.max(...rows) + 1) * LABEL_ROW : 0);
  const top = areaTop + (laneAbove ? LANE_H : 0);
  const laneTop = laneAbove ? areaTop : top + PLOT_H + 6;
  const bottom = top + PLOT_H + 6 + (others.length && !laneAbove ? LANE_H : 0);
  const thresholdsRow = bottom + 46;
  const height = bottom + (thresholds.length ? 54 : 36);

  const { y, ticks } = input.categorical
    ? categoryScale(
        numeric.flatMap((p) => p.nums),
        top,
      )
    : valueScale(
        [...numeric.flatMap((p) => p.nums), ...thresholds.flatMap((t) => [t.lo, t.hi ?? t.lo])],
        top,
      );

  const out: string[] = [];
  const id = input.id.replace(/[^A-Za-z0-9_-]/g, "_");
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${height}" width="100%" role="img" aria-label="${escapeXml(`${input.title}: ${input.records.length} measurements over time`)}">`,
    `<defs><pattern id="${id}-hatch" patternUnits="userSpaceOnUse" width="8" height="8" patternTransform="rotate(45)"><rect width="8" height="8" fill="${COLORS.fault}" fill-opacity="0.12"/><line x1="0" y1="0" x2="0" y2="8" stroke="${COLORS.fault}" stroke-width="3" stroke-opacity="0.35"/></pattern></defs>`,
  );

  // Fault windows first, so everything else draws over them.
  windows.forEach((w, i) => {
    const fill = w.w.to === undefined ? `url(#${id}-hatch)` : COLORS.fault;
    const opacity = w.w.to === undefined ? "1" : "0.16";
    const ly = 10 + (rows[i] ?? 0) * LABEL_ROW + 10;
    out.push(
      `<g class="fault-window"><title>${escapeXml(w.text)}</title>`,
      `<rect class="fault" x="${w.x0}" y="${areaTop}" width="${Math.max(2, f1(w.x1 - w.x0))}" height="${bottom - areaTop}" fill="${fill}" fill-opacity="${opacity}"/>`,
      `<line x1="${w.x0}" y1="${ly - 10}" x2="${w.x0}" y2="${bottom}" stroke="${COLORS.fault}" stroke-width="1.5"/>`,
      `<text x="${f1(w.place.x)}" y="${ly}" font-size="11" text-anchor="${w.place.anchor}" fill="#92400e">${escapeXml(w.shown)}</text>`,
      "</g>",
    );
  });

  // Axes and grid.
  if (y) {
    for (const v of ticks) {
      const yy = f1(y(v));
      out.push(
        `<line x1="${LEFT}" y1="${yy}" x2="${W - RIGHT}" y2="${yy}" stroke="${COLORS.grid}"/>`,
        `<text x="${LEFT - 6}" y="${yy + 4}" font-size="11" text-anchor="end" fill="${COLORS.axis}">${escapeXml(formatNumber(v))}</text>`,
      );
    }
  } else {
    out.push(
      `<text x="${(LEFT + W - RIGHT) / 2}" y="${top + PLOT_H / 2}" font-size="12" text-anchor="middle" fill="${COLORS.empty}">no numeric values</text>`,
    );
  }
  out.push(
    `<rect x="${LEFT}" y="${top}" width="${W - RIGHT - LEFT}" height="${PLOT_H}" fill="none" stroke="${COLORS.grid}"/>`,
    `<text class="y-title" transform="translate(12 ${top + PLOT_H / 2}) rotate(-90)" font-size="11" text-anchor="middle" fill="${COLORS.axis}">${escapeXml(input.yTitle ?? "value")}</text>`,
  );
  if (others.length) {
    const edge = laneAbove ? laneTop + LANE_H : laneTop;
    out.push(
      `<line x1="${LEFT}" y1="${edge}" x2="${W - RIGHT}" y2="${edge}" stroke="${COLORS.grid}" stroke-dasharray="2 3"/>`,
      `<text class="lane-label" x="${LEFT - 6}" y="${laneTop + LANE_H / 2 + 4}" font-size="10" text-anchor="end" fill="${laneAbove ? COLORS.fail : COLORS.empty}">${escapeXml(lane.label)}</text>`,
    );
  }
  for (const t of timeTicks(span)) {
    const xx = f1(x(t0 + t));
    out.push(
      `<line x1="${xx}" y1="${bottom}" x2="${xx}" y2="${bottom + 5}" stroke="${COLORS.axis}"/>`,
      `<text x="${xx}" y="${bottom + 18}" font-size="11" text-anchor="middle" fill="${COLORS.axis}">${offsetLabel(t)}</text>`,
    );
  }
  out.push(`<line x1="${LEFT}" y1="${bottom}" x2="${W - RIGHT}" y2="${bottom}" stroke="${COLORS.axis}"/>`);

  for (const m of input.markers) {
    const xx = f1(x(clampT(m.at)));
    const place = inside(xx, m.label, 10);
    out.push(
      `<line x1="${xx}" y1="${areaTop}" x2="${xx}" y2="${bottom}" stroke="${COLORS.axis}" stroke-dasharray="4 3" stroke-opacity="0.6"/>`,
      `<text x="${f1(place.x)}" y="${bottom + 30}" font-size="10" text-anchor="${place.anchor}" fill="${COLORS.axis}">${escapeXml(m.label)}</text>`,
    );
  }
  for (const m of input.instants ?? []) {
    const xx = f1(x(clampT(m.at)));
    out.push(
      `<g class="instant-fault"><title>${escapeXml(m.label)}</title><line x1="${xx}" y1="${areaTop}" x2="${xx}" y2="${bottom}" stroke="${COLORS.fault}" stroke-width="2"/><path d="M${xx - 5},${bottom + 9}L${xx + 5},${bottom + 9}L${xx},${bottom + 1}Z" fill="${COLORS.fault}"/></g>`,
    );
  }

  // Tolerance bounds: a band for a range, a dashed line for a comparison.
  if (y) {
    for (const th of thresholds) {
      const ya = f1(y(th.lo));
      if (th.hi !== undefined) {
        const yb = f1(y(th.hi));
        out.push(
          `<rect class="tolerance" x="${LEFT}" y="${Math.min(ya, yb)}" width="${W - RIGHT - LEFT}" height="${Math.max(1, Math.abs(ya - yb))}" fill="${COLORS.threshold}" fill-opacity="0.07" stroke="${COLORS.threshold}" stroke-dasharray="5 4" stroke-opacity="0.7"/>`,
        );
      } else {
        out.push(
          `<line class="tolerance" x1="${LEFT}" y1="${ya}" x2="${W - RIGHT}" y2="${ya}" stroke="${COLORS.threshold}" stroke-dasharray="5 4"/>`,
        );
      }
    }
    // Named under the chart, where it never covers a sample.
    const label = thresholds.map((th) => `${input.boundLabel ?? "tolerance"} ${th.label}`).join(" · ");
    if (thresholds.length)
      out.push(
        `<line x1="${LEFT}" y1="${thresholdsRow - 4}" x2="${LEFT + 24}" y2="${thresholdsRow - 4}" stroke="${COLORS.threshold}" stroke-dasharray="5 4"/>`,
        `<text class="tolerance-label" x="${LEFT + 30}" y="${thresholdsRow}" font-size="10" fill="${COLORS.threshold}">${escapeXml(`${label} (dashed)`)}</text>`,
      );
  }

  // The series line joins consecutive numeric samples; a sample without a value breaks it.
  if (y) {
    // The line also breaks between phases: before, during and after are separate stretches of time.
    // It breaks, too, across a gap: a stretch with no check at all is not drawn as if it had been measured.
    const segments: string[][] = [[]];
    const sorted = [...points].sort((a, b) => a.t - b.t);
    const gap = 2.5 * typicalStep(sorted.map((p) => p.t));
    let phase = sorted[0]?.r.phase;
    let last = sorted[0]?.t ?? 0;
    for (const p of sorted) {
      const first = isNumeric.has(p) ? p.nums[0] : undefined;
      if (first === undefined || p.r.phase !== phase || p.t - last > gap) segments.push([]);
      phase = p.r.phase;
      last = p.t;
      if (first !== undefined) segments[segments.length - 1]?.push(`${f1(x(p.t))},${f1(y(first))}`);
    }
    for (const s of input.categorical ? [] : segments)
      if (s.length > 1)
        out.push(
          `<polyline points="${s.join(" ")}" fill="none" stroke="${COLORS.line}" stroke-width="1.5"/>`,
        );
    for (const p of numeric) {
      const kind = p.r.ok ? "pt-ok" : recovering(p.r) ? "pt-recovering" : "pt-fail";
      const color = p.r.ok ? COLORS.ok : recovering(p.r) ? COLORS.recovering : COLORS.fail;
      for (const n of p.nums)
        out.push(
          `<circle class="${kind}" cx="${f1(x(p.t))}" cy="${f1(y(n))}" r="${p.r.ok ? 3.5 : 4.5}" fill="${color}" stroke="#fff" stroke-width="1">${tooltip(p.r, recovering(p.r))}</circle>`,
        );
    }
  }
  for (const p of others) out.push(laneMarker(p.r, f1(x(p.t)), laneTop + LANE_H / 2, recovering(p.r)));
  // Above the plot, the first unanswered check says why in words ("timed out after 1s"): the worst a
  // check can go is not a value the axis could show.
  const firstMissing = laneAbove ? others.find((p) => !p.r.ok) : undefined;
  if (firstMissing) {
    const why = redactThenCut(firstMissing.r.reason, 60);
    const place = inside(f1(x(firstMissing.t)) + 4, why, 10);
    out.push(
      `<text class="missing-reason" x="${f1(place.x)}" y="${laneTop + LANE_H / 2 + 4}" font-size="10" text-anchor="${place.anchor}" fill="${COLORS.fail}">${escapeXml(why)}</text>`,
    );
  }

  out.push("</svg>");
  return out.join("\n");
}

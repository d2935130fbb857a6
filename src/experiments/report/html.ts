import { figuresText } from "../checks.js";
import { formatDuration } from "../duration.js";
import type { Journal, ProbeRecord } from "../journal.js";
import { COLORS, renderChart, type TimeMarker, type TimeWindow } from "./chart.js";
import { escapeXml as esc } from "./escape.js";
import { faultLabel } from "./probe-table.js";
import { lastOf, namesOf, STATUS_LABEL, statsOf, steadyProbes, triggeredStops } from "./summary.js";
import { formatNumber, formatWithUnit, toleranceText, unitSuffix } from "./values.js";

const STATUS_COLOR: Record<Journal["status"], string> = {
  held: COLORS.ok,
  completed: "#475569",
  deviated: COLORS.fail,
  unobserved: COLORS.fail,
  "not-steady": COLORS.fail,
  aborted: "#b45309",
  error: "#7f1d1d",
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;margin:0;background:#f8fafc}
main{max-width:940px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 8px;overflow-wrap:anywhere}
p,li{overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
.chart-box{overflow-x:auto;max-width:100%}.chart-box svg{min-width:720px;display:block}
@media (max-width:600px){main{padding:12px}h1{font-size:19px}}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
h3{font-size:15px;margin:0 0 2px}
.badge{display:inline-block;color:#fff;font-weight:700;padding:3px 10px;border-radius:4px;letter-spacing:.03em}
.meta{color:#4b5563;font-size:13px}.meta code{font-size:12px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:12px 14px;margin:12px 0}
.sub{color:#4b5563;font-size:12.5px;margin-bottom:6px;overflow-wrap:break-word}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f1f5f9;white-space:nowrap}td.n{white-space:nowrap}
.ok{color:${COLORS.ok};font-weight:600}.bad{color:${COLORS.fail};font-weight:600}.dim{color:#6b7280}.warn{color:#b45309;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:#374151;margin:8px 0}
.legend svg{vertical-align:middle;margin-right:4px}
ul.reasons{margin:6px 0 0;padding-left:20px}
`;

function legend(): string {
  const item = (shape: string, label: string) =>
    `<span><svg width="14" height="14" viewBox="-7 -7 14 14" aria-hidden="true">${shape}</svg>${label}</span>`;
  return `<div class="legend">${[
    item(`<circle r="4" fill="${COLORS.ok}"/>`, "within tolerance"),
    item(`<circle r="4.5" fill="${COLORS.fail}"/>`, "outside tolerance"),
    item(`<path d="M-4,-4L4,4M-4,4L4,-4" stroke="${COLORS.fail}" stroke-width="2.2"/>`, "probe error"),
    item(
      `<circle r="4" fill="${COLORS.recovering}"/>`,
      "recovering (after the rollbacks, recovered in time)",
    ),
    item(
      `<rect x="-4" y="-4" width="8" height="8" fill="#fff" stroke="${COLORS.empty}" stroke-width="1.8"/>`,
      "empty result",
    ),
    item(`<path d="M0,-5L5,4L-5,4Z" fill="#fff" stroke="${COLORS.nan}" stroke-width="1.8"/>`, "NaN"),
    item(`<circle r="4" fill="#fff" stroke="${COLORS.fail}" stroke-width="1.8"/>`, "non-numeric value"),
    item(
      `<rect x="-6" y="-6" width="12" height="12" fill="${COLORS.fault}" fill-opacity="0.3"/>`,
      "fault window",
    ),
    item(`<path d="M-5,5L5,5L0,-3Z" fill="${COLORS.fault}"/>`, "instant fault (e.g. a kill)"),
    item(
      `<line x1="-6" y1="0" x2="6" y2="0" stroke="${COLORS.threshold}" stroke-dasharray="3 2" stroke-width="1.5"/>`,
      "tolerance",
    ),
  ].join("")}</div>`;
}

function timeDomain(j: Journal): [number, number] {
  const times = [
    j.start,
    j.end,
    ...j.faults.flatMap((f) => [f.appliedAt, f.revertedAt ?? ""]),
    ...[
      ...j.steadyState.before,
      ...j.steadyState.during,
      ...j.steadyState.after,
      ...j.stopConditions,
    ].flatMap((r) => [r.start, r.end]),
  ]
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  if (!times.length) return [0, 1000];
  return [times.reduce((a, b) => Math.min(a, b)), times.reduce((a, b) => Math.max(a, b))];
}

function markers(j: Journal): TimeMarker[] {
  const out: TimeMarker[] = [];
  const methodStart = j.method.map((a) => Date.parse(a.start)).filter((t) => !Number.isNaN(t));
  if (methodStart.length) out.push({ label: "method", at: methodStart.reduce((a, b) => Math.min(a, b)) });
  if (j.aborted) out.push({ label: "aborted", at: Date.parse(j.aborted.at) });
  const after = j.steadyState.after[0];
  if (after) out.push({ label: "after", at: Date.parse(after.start) });
  return out;
}

/** Actions that act once and leave nothing to revert (a kill): a mark on the time axis. */
function instants(j: Journal): TimeMarker[] {
  const windowed = new Set(j.faults.map((f) => f.step));
  return j.method
    .filter((a) => a.kind === "action" && a.status === "succeeded" && !windowed.has(a.name))
    .map((a) => ({ label: faultLabel(a.ref ?? "action", a.name), at: Date.parse(a.end) }));
}

/** The y axis's title, with the unit the probe's values are in. */
function yTitle(r: ProbeRecord | undefined): string {
  if (!r) return "value";
  if (r.unit) return `value (${r.unit})`;
  if (r.key === "http")
    return typeof r.value === "number" && /^\d{3}\b/.test(r.summary ?? "") ? "HTTP status" : "value";
  return r.key === "process.running" ? "running (1 = yes)" : "value";
}

/**
 * An http probe's latency per check, read from its summary ("200 in 12ms"), as a series of its own. A check
 * that got no answer (a timeout, a refused connection) stays in the series without a value: the chart draws
 * it as a failure at its time, never leaves it out.
 */
function latencySeries(records: ProbeRecord[]): ProbeRecord[] {
  const series = records.flatMap((r): ProbeRecord[] => {
    const tolerance = latencyTolerance(r.tolerance);
    if (r.outcome === "no-answer" || r.outcome === "error") {
      const { value: _, ...rest } = r;
      return [{ ...rest, tolerance }];
    }
    const m = /\bin (\d+(?:\.\d+)?)(ms|s)\b/.exec(r.summary ?? "");
    if (!m) return [];
    return [{ ...r, value: Number(m[1]) * (m[2] === "s" ? 1000 : 1), tolerance }];
  });
  return series.some((r) => r.value !== undefined) ? series : [];
}

/** The latency criterion of an http tolerance ({ latency: "< 300ms" }) in milliseconds, for the latency chart. */
function latencyTolerance(tolerance: string | undefined): string | undefined {
  try {
    const latency = (JSON.parse(tolerance ?? "") as { latency?: unknown }).latency;
    const m =
      typeof latency === "string" ? /^\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(latency) : null;
    return m ? `${m[1]} ${Number(m[2]) * (m[3] === "s" ? 1000 : 1)}` : undefined;
  } catch {
    return undefined;
  }
}

/** For an http probe, a check that got no answer is the worst outcome: drawn above the plot, in red. */
const NO_ANSWER = { at: "top", label: "no answer" } as const;

function windows(j: Journal): TimeWindow[] {
  return j.faults.map((f) => ({
    label: faultLabel(f.ref, f.step),
    from: Date.parse(f.appliedAt),
    to: f.revertedAt ? Date.parse(f.revertedAt) : undefined,
  }));
}

function verdictWord(r: ProbeRecord | undefined): string {
  if (!r) return `<span class="dim">not measured</span>`;
  return r.ok
    ? `<span class="ok">pass</span> (${esc(formatWithUnit(r.value, r.unit, 40))})`
    : `<span class="bad">${esc(r.outcome)}</span> (${esc(formatWithUnit(r.value, r.unit, 40))}): ${esc(r.reason)}`;
}

function probeCard(
  j: Journal,
  name: string,
  records: ProbeRecord[],
  id: string,
  kind: "steady" | "stop",
): string {
  const first = records[0];
  const s = statsOf(records);
  const num = (n: number) => esc(formatNumber(n) + unitSuffix(first?.unit));
  const range =
    s.min === undefined || s.max === undefined
      ? ""
      : s.min === s.max
        ? `, value ${num(s.min)}`
        : `, values ${num(s.min)} to ${num(s.max)}`;
  let sub: string;
  if (kind === "steady") {
    const during = statsOf(j.steadyState.during.filter((r) => r.probe === name));
    sub = [
      `before: ${verdictWord(lastOf(j.steadyState.before, name).last)}`,
      during.samples
        ? `during: ${during.samples} checks, <span class="${during.failures ? "bad" : "ok"}">${during.failures} failed</span>`
        : `during: <span class="dim">no check</span>`,
      `after: ${verdictWord(lastOf(j.steadyState.after, name).last)}`,
    ].join("<br>");
  } else {
    const met = triggeredStops({ ...j, stopConditions: records }).length;
    sub = `${records.length} checks, <span class="${met ? "bad" : "ok"}">${met ? `met ${met} time${met === 1 ? "" : "s"}` : "never met"}</span>`;
  }
  const chart = renderChart({
    id,
    title: name,
    records,
    domain: timeDomain(j),
    windows: windows(j),
    markers: markers(j),
    tolerance: first?.tolerance,
    boundLabel: kind === "stop" ? "stop when" : "tolerance",
    yTitle: yTitle(first),
    instants: instants(j),
    categorical: yTitle(first) === "HTTP status",
    ...(first?.key === "http" ? { missingLane: NO_ANSWER } : {}),
  });
  const latency = first?.key === "http" ? latencySeries(records) : [];
  const latencyChart = latency.length
    ? renderChart({
        id: `${id}-latency`,
        title: `${name}: latency`,
        records: latency,
        domain: timeDomain(j),
        windows: windows(j),
        markers: markers(j),
        tolerance: latency[0]?.tolerance,
        boundLabel: kind === "stop" ? "stop when" : "tolerance",
        yTitle: "latency (ms)",
        instants: instants(j),
        missingLane: NO_ANSWER,
      })
    : "";
  return `<section class="card"><h3>${esc(name)}</h3><div class="sub"><code>${esc(first?.key ?? "")}</code>${first?.tolerance ? ` · ${kind === "stop" ? "stop when" : "tolerance"} <code>${esc(toleranceText(first.tolerance))}</code>` : ""} · ${records.length} checks${range}</div><div class="sub">${sub}</div>${chartBox(chart)}${latencyChart ? chartBox(latencyChart) : ""}</section>`;
}

/** A chart keeps a readable size on a phone: its box scrolls sideways instead of shrinking the text. */
function chartBox(svg: string): string {
  return `<div class="chart-box">${svg}</div>`;
}

/** Clock time of a timestamp (the date is in the page header); the full timestamp shows on hover. */
function clock(iso: string): string {
  const m = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(iso);
  return `<span title="${esc(iso)}">${esc(m?.[1] ?? iso)}</span>`;
}

/** `wide` columns hold free text and may wrap; the others (times, statuses) stay on one line. */
function table(header: string[], rows: string[][], wide: number[]): string {
  const head = `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`;
  const td = (c: string, i: number) => (wide.includes(i) ? `<td>${c}</td>` : `<td class="n">${c}</td>`);
  // On a narrow screen a table scrolls sideways in its own box rather than being cut off.
  return `<div class="scroll"><table>${head}${rows.map((r) => `<tr>${r.map(td).join("")}</tr>`).join("")}</table></div>`;
}

const STATUS_CLASS: Record<string, string> = { succeeded: "ok", skipped: "dim", aborted: "warn" };
const statusCell = (status: string) => `<span class="${STATUS_CLASS[status] ?? "bad"}">${esc(status)}</span>`;

function sections(j: Journal): string[] {
  const out: string[] = [];
  const steady = j.steadyState;
  const all = [...steady.before, ...steady.during, ...steady.after];
  out.push("<h2>Steady-state hypothesis</h2>", legend());
  const probes = steadyProbes(j);
  if (!probes.length) out.push(`<p class="dim">No steady-state probes.</p>`);
  probes.forEach((p, i) => {
    out.push(
      probeCard(
        j,
        p,
        all.filter((r) => r.probe === p),
        `probe${i}`,
        "steady",
      ),
    );
  });
  if (j.stopConditions.length) {
    const met = triggeredStops(j).length;
    out.push(
      "<h2>Stop conditions</h2>",
      `<p>${met ? `<span class="bad">Triggered ${met} time${met === 1 ? "" : "s"}.</span>` : "None triggered."}</p>`,
    );
    namesOf(j.stopConditions).forEach((c, i) => {
      out.push(
        probeCard(
          j,
          c,
          j.stopConditions.filter((r) => r.probe === c),
          `stop${i}`,
          "stop",
        ),
      );
    });
  }
  if (j.faults.length) {
    out.push(
      "<h2>Faults</h2>",
      table(
        ["Fault", "Step", "Undone by", "Applied", "Reverted", "Window"],
        j.faults.map((f) => {
          const ms = f.revertedAt ? Date.parse(f.revertedAt) - Date.parse(f.appliedAt) : Number.NaN;
          return [
            esc(f.ref),
            esc(f.step),
            esc(f.description),
            clock(f.appliedAt),
            f.revertedAt ? clock(f.revertedAt) : `<span class="bad">not reverted</span>`,
            Number.isNaN(ms) ? "" : esc(formatDuration(ms)),
          ];
        }),
        [1, 2],
      ),
    );
  }
  if (j.method.length) {
    out.push(
      "<h2>Method</h2>",
      table(
        ["Activity", "Kind", "Status", "Started", "Duration", "Error"],
        j.method.map((a) => [
          esc(a.name),
          esc(a.kind + (a.background ? " (background)" : "")),
          statusCell(a.status),
          clock(a.start),
          esc(formatDuration(a.durationMs)),
          esc(a.error ?? ""),
        ]),
        [0, 5],
      ),
    );
  }
  if (j.rollbacks.length) {
    out.push(
      "<h2>Rollbacks</h2>",
      table(
        ["Rollback", "Source", "Status", "Started", "Duration", "Error"],
        j.rollbacks.map((r) => [
          esc(r.description),
          esc(r.source),
          statusCell(r.status),
          clock(r.start),
          esc(formatDuration(r.durationMs)),
          esc(r.error ?? ""),
        ]),
        [0, 5],
      ),
    );
  }
  return out;
}

/**
 * Renders a journal as one self-contained HTML page (inline CSS and SVG, no scripts, no external assets):
 * the verdict, a chart per steady-state probe and stop condition with the fault windows shaded, and tables
 * of faults, activities and rollbacks. Every piece of journal text is escaped. Never throws.
 */
export function renderHtml(j: Journal): string {
  const title = `Chaos experiment: ${j.experiment.title}`;
  const reasons = j.reasons.length
    ? `<ul class="reasons">${j.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>`
    : "";
  const aborted = j.aborted
    ? `<p><strong>Aborted</strong> at ${esc(j.aborted.at)}: ${esc(j.aborted.reason)}</p>`
    : "";
  return htmlPage(
    title,
    `<p><span class="badge" style="background:${STATUS_COLOR[j.status]}">${esc(STATUS_LABEL[j.status])}</span> exit code ${j.exitCode} · ${esc(formatDuration(j.durationMs))}</p>
<p class="figures">${esc(figuresText(j))}</p>
<p class="meta">run <code>${esc(j.runId)}</code> · ${esc(j.start)} → ${esc(j.end)}${j.experiment.file ? ` · <code>${esc(j.experiment.file)}</code>` : ""} · ${esc(`${j.tool.name} ${j.tool.version}`)}</p>
${aborted}${reasons}
${sections(j).join("\n")}`,
  );
}

/**
 * A self-contained page: inline CSS, no scripts, nothing fetched (the CSP forbids it), `title` escaped;
 * `body` is HTML already escaped by the caller.
 */
export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

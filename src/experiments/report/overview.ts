import { figuresOf, figuresText, scoreText } from "../checks.js";
import { formatDuration } from "../duration.js";
import type { Journal } from "../journal.js";
import { escapeXml as esc } from "./escape.js";
import { htmlPage } from "./html.js";
import { runDate, suiteScore, worstExit } from "./suite.js";
import { STATUS_LABEL } from "./summary.js";

const W = 640;
const H = 200;
const LEFT = 44;
const RIGHT = 16;
const TOP = 12;
const BOTTOM = 44;

/**
 * One experiment's resilience score over its runs, oldest first: a point per judged run, joined by a line;
 * a run that judged nothing (an error, an abort) is a grey mark on the axis, labelled "—", never a 0 or a
 * 100. The x axis is the run's order, each run labelled with its date.
 */
function trendChart(runs: readonly Journal[], title: string): string {
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const x = (i: number) => LEFT + (runs.length === 1 ? plotW / 2 : (plotW * i) / (runs.length - 1));
  const y = (score: number) => TOP + plotH - (plotH * score) / 100;
  const grid = [0, 50, 100]
    .map(
      (s) =>
        `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(s)}" y2="${y(s)}" stroke="#e5e7eb"/><text x="${LEFT - 6}" y="${y(s) + 4}" text-anchor="end">${s}%</text>`,
    )
    .join("");
  let path = "";
  const marks = runs.map((j, i) => {
    const { score } = figuresOf(j);
    const label = `<text x="${x(i)}" y="${H - BOTTOM + 16}" text-anchor="middle">${esc(runDate(j).slice(5))}</text>`;
    const tip = `<title>${esc(`${j.runId} · ${runDate(j)} · ${STATUS_LABEL[j.status]} · score ${scoreText(score)}`)}</title>`;
    if (score === undefined) {
      path += " ";
      return `<g class="unjudged"><text x="${x(i)}" y="${y(0) - 6}" text-anchor="middle" fill="#6b7280">—</text>${tip}</g>${label}`;
    }
    path += `${path.endsWith(" ") || !path ? "M" : "L"}${x(i)},${y(score)}`;
    const color = j.status === "held" ? "#15803d" : "#dc2626";
    return `<g class="point"><circle cx="${x(i)}" cy="${y(score)}" r="5" fill="${color}"/>${tip}</g>${label}`;
  });
  const line = path.trim() ? `<path d="${path.trim()}" fill="none" stroke="#94a3b8" stroke-width="2"/>` : "";
  return `<svg class="trend" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`resilience score over time: ${title}`)}" font-size="12" font-family="system-ui,sans-serif">${grid}${line}${marks.join("")}<text x="${LEFT + plotW / 2}" y="${H - 8}" text-anchor="middle" fill="#374151">run (date, oldest first)</text></svg>`;
}

/**
 * Several runs as one self-contained HTML page: the suite's figures, a row per run (its id and date, so
 * runs of one experiment can be told apart) and, per experiment, its resilience score over time — whether
 * the team is getting more resilient. Every piece of journal text is escaped. Never throws.
 */
export function renderSuiteHtml(journals: readonly Journal[]): string {
  const byTime = [...journals].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const groups = new Map<string, Journal[]>();
  for (const j of byTime) {
    const key = j.experiment.file || j.experiment.title;
    groups.set(key, [...(groups.get(key) ?? []), j]);
  }
  const rows = byTime.map((j) => {
    const f = figuresOf(j);
    return `<tr><td>${esc(j.experiment.title)}</td><td class="n"><code>${esc(j.runId)}</code></td><td class="n">${esc(runDate(j))}</td><td class="n">${esc(STATUS_LABEL[j.status])}</td><td class="n">${f.checks.hypothesis.total}</td><td class="n">${f.checks.hypothesis.failed}</td><td class="n">${esc(scoreText(f.score))}</td><td class="n">${esc(formatDuration(j.durationMs))}</td></tr>`;
  });
  const trends = [...groups.values()].map((runs) => {
    const title = runs[0]!.experiment.title;
    return `<section class="card"><h3>${esc(title)}</h3><div class="sub">${runs.length} run${runs.length === 1 ? "" : "s"} · latest: ${esc(figuresText(runs[runs.length - 1]!))}</div><div class="chart-box">${trendChart(runs, title)}</div></section>`;
  });
  return htmlPage(
    `Chaos runs: ${journals.length} run${journals.length === 1 ? "" : "s"}`,
    `<p class="figures">worst exit code ${worstExit(journals)} · suite resilience score ${esc(scoreText(suiteScore(journals)))}</p>
<h2>Runs</h2>
<div class="scroll"><table><tr><th>Experiment</th><th>Run</th><th>Date</th><th>Verdict</th><th>Checks</th><th>Failed</th><th>Score</th><th>Duration</th></tr>${rows.join("")}</table></div>
<h2>Resilience score over time</h2>
${trends.join("\n")}`,
  );
}

import { formatDuration } from "../../experiments/duration.js";
import { escapeXml as esc, escapeAttr } from "../../experiments/report/escape.js";
import { htmlPage } from "../../experiments/report/html.js";
import type { GameDayRecord, TimelineEntry } from "../record.js";
import { clockOf, GAMEDAY_STATUS, outcomeOf, safeHref } from "./words.js";

const STATUS_COLOR: Record<GameDayRecord["status"], string> = {
  completed: "#15803d",
  "no-go": "#475569",
  aborted: "#b45309",
  "preconditions-failed": "#b91c1c",
  error: "#7f1d1d",
};

function table(header: string[], rows: string[][]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

/** A link to a file beside the record; the path is escaped, never a scheme of its own (`javascript:`). */
function link(label: string, path: string): string {
  return `<a href="${escapeAttr(safeHref(path))}">${esc(label)}</a>`;
}

function row(e: TimelineEntry): string[] {
  const surprise = e.experiment && !e.experiment.matched;
  const outcome = outcomeOf(e);
  return [
    `<span title="${escapeAttr(e.start)}">${esc(clockOf(e.start))}</span>–${esc(clockOf(e.end))}`,
    `<code>${esc(e.step)}</code> <span class="dim">${esc(e.kind)}</span>`,
    esc(e.text).replace(/\n/g, "<br>"),
    (surprise || e.status !== "done" ? `<span class="bad">${esc(outcome)}</span>` : esc(outcome)) +
      (e.journal ? ` · ${link("journal", e.journal)}` : ""),
    esc(e.by ?? ""),
  ];
}

function list(items: string[], empty: string): string {
  return items.length
    ? `<ul>${items.map((i) => `<li>${i}</li>`).join("")}</ul>`
    : `<p class="dim">${esc(empty)}</p>`;
}

/**
 * Renders a GameDay record as one self-contained HTML page (inline CSS, no scripts, no external assets):
 * outcome, timeline, experiments against their predictions with links to their own reports, findings and an
 * empty "Action items" section. Every piece of recorded text is escaped. Never throws.
 */
export function renderGameDayHtml(r: GameDayRecord): string {
  const title = `GameDay: ${r.runbook.title}`;
  const runs = r.timeline.filter((e) => e.experiment);
  const experiments = runs.length
    ? `<h2>Experiments</h2>${table(
        ["step", "experiment", "predicted", "outcome", "reports"],
        runs.map((e) => {
          const x = e.experiment!;
          return [
            `<code>${esc(e.step)}</code>`,
            `${esc(x.title)} <span class="dim">${esc(x.file)}</span>`,
            esc(x.expect),
            x.matched
              ? `<span class="ok">${esc(x.outcome)}</span>`
              : `<span class="bad">${esc(x.outcome)} — surprise</span>`,
            [link("journal", x.journal), ...x.reports.map((p) => link(p.format, p.path))].join(" · "),
          ];
        }),
      )}`
    : "";
  const by = (kind: "surprise" | "observation") =>
    r.findings.filter((f) => f.kind === kind).map((f) => `<code>${esc(f.step)}</code>: ${esc(f.text)}`);
  const roles = [
    r.runbook.roles.facilitator ? `facilitator ${esc(r.runbook.roles.facilitator)}` : "",
    r.runbook.roles.observers.length ? `observers ${esc(r.runbook.roles.observers.join(", "))}` : "",
  ].filter(Boolean);
  return htmlPage(
    title,
    `${r.runbook.goal ? `<p><strong>Goal:</strong> ${esc(r.runbook.goal)}</p>` : ""}
<p><span class="badge" style="background:${STATUS_COLOR[r.status]}">${esc(GAMEDAY_STATUS[r.status])}</span> exit code ${r.exitCode} · ${esc(formatDuration(r.durationMs))}</p>
<p class="meta">GameDay <code>${esc(r.id)}</code> · ${esc(r.start)} → ${esc(r.end)} · <code>${esc(r.runbook.file)}</code>${roles.length ? ` · ${roles.join(" · ")}` : ""}</p>
${r.aborted ? `<p><strong>Aborted</strong> at ${esc(r.aborted.at)}: ${esc(r.aborted.reason)}</p>` : ""}
<ul class="reasons">${r.reasons.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>
<h2>Timeline</h2>
${table(["time", "step", "what", "outcome", "by"], r.timeline.map(row))}
${experiments}
<h2>Findings</h2>
<h3>Surprises</h3>
${list(by("surprise"), "none: every prediction was right")}
<h3>Observations</h3>
${list(by("observation"), "none recorded")}
<h2>Action items</h2>
<p class="dim">To be filled in after the debrief: what, who, by when.</p>`,
  );
}

import { formatDuration } from "../../experiments/duration.js";
import { table, text, time } from "../../experiments/report/markdown.js";
import type { GameDayRecord } from "../record.js";
import { clockOf, GAMEDAY_STATUS, outcomeOf, safeHref } from "./words.js";

/**
 * Renders a GameDay record as Markdown: the outcome, the timeline, each experiment against its prediction
 * (linking its own journal and reports rather than copying them), the findings, and an empty "Action items"
 * section for the debrief. Every piece of recorded text is escaped. Never throws.
 */
export function renderGameDayMarkdown(r: GameDayRecord): string {
  const out: string[] = [`# GameDay: ${text(r.runbook.title)}`, ""];
  if (r.runbook.goal) out.push(`**Goal:** ${text(r.runbook.goal)}`, "");
  out.push(
    `**${GAMEDAY_STATUS[r.status]}** (exit ${r.exitCode}) · ${formatDuration(r.durationMs)} · ${time(r.start)} → ${time(r.end)}`,
    "",
    `- GameDay \`${r.id}\`, runbook \`${text(r.runbook.file)}\`, answered ${r.mode === "interactive" ? "at a terminal" : r.mode === "answers" ? "from an answer file" : "with --yes"}`,
  );
  if (r.runbook.roles.facilitator) out.push(`- Facilitator: ${text(r.runbook.roles.facilitator)}`);
  if (r.runbook.roles.observers.length)
    out.push(`- Observers: ${r.runbook.roles.observers.map(text).join(", ")}`);
  if (r.aborted) out.push(`- Aborted at ${time(r.aborted.at)}: ${text(r.aborted.reason)}`);
  out.push("", "## Outcome", "", ...r.reasons.map((x) => `- ${text(x)}`), "");

  out.push("## Timeline", "");
  out.push(
    ...table(
      ["time", "step", "what", "outcome", "by"],
      r.timeline.map((e) => [
        `${clockOf(e.start)}–${clockOf(e.end)}`,
        `${e.step} (${e.kind})`,
        e.text,
        `${outcomeOf(e)}${e.journal ? ` · [journal](${safeHref(e.journal)})` : ""}`,
        e.by ?? "",
      ]),
    ),
  );

  const runs = r.timeline.filter((e) => e.experiment);
  if (runs.length) {
    out.push("## Experiments", "");
    out.push(
      ...table(
        ["step", "experiment", "predicted", "outcome", "reports"],
        runs.map((e) => {
          const x = e.experiment!;
          const links = [
            `[journal](${safeHref(x.journal)})`,
            ...x.reports.map((p) => `[${p.format}](${safeHref(p.path)})`),
          ];
          return [
            e.step,
            `${x.title} (${x.file})`,
            x.expect,
            `${x.outcome}${x.matched ? "" : " — SURPRISE"}`,
            links.join(" · "),
          ];
        }),
      ),
    );
  }

  out.push("## Findings", "");
  const surprises = r.findings.filter((f) => f.kind === "surprise");
  const observations = r.findings.filter((f) => f.kind === "observation");
  out.push("### Surprises", "");
  out.push(
    ...(surprises.length
      ? surprises.map((f) => `- **${text(f.step)}**: ${text(f.text)}`)
      : ["- none: every prediction was right"]),
  );
  out.push("", "### Observations", "");
  out.push(
    ...(observations.length
      ? observations.map((f) => `- **${text(f.step)}**: ${text(f.text)}`)
      : ["- none recorded"]),
  );
  out.push("", "## Action items", "", "<!-- One line per action: what, who, by when. -->", "");
  return out.join("\n");
}

import {
  checksText,
  figuresOf,
  hypothesisChecks,
  judged,
  resilienceScore,
  scoreText,
  tally,
} from "../checks.js";
import { formatDuration } from "../duration.js";
import type { Journal } from "../journal.js";
import { cell, text } from "./markdown.js";
import { STATUS_LABEL } from "./summary.js";

/** When a run started, to the minute, in UTC: "2026-12-07 12:52". */
export function runDate(j: Journal): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/.exec(j.start);
  return m ? `${m[1]} ${m[2]}` : j.start;
}

/** A suite's exit code: the worst of its runs (4 error > 3 aborted > 1 deviated > 0 held). */
export function worstExit(journals: readonly Journal[]): number {
  return Math.max(0, ...journals.map((j) => j.exitCode));
}

/**
 * The suite's resilience score: the weighted share of the hypothesis checks that held, over the runs that
 * judged their hypothesis (an errored, aborted or unobserved run adds no evidence either way).
 */
export function suiteScore(journals: readonly Journal[]): number | undefined {
  return resilienceScore(journals.filter((j) => judged(j.status)).flatMap(hypothesisChecks));
}

/**
 * Several runs as one Markdown summary (a CI step summary): the worst verdict, the suite's checks and score,
 * a row per run, then the reasons of every run that did not hold. Never throws.
 */
export function renderSuiteMarkdown(journals: readonly Journal[]): string {
  const worst = journals.reduce<Journal | undefined>(
    (w, j) => (!w || j.exitCode > w.exitCode ? j : w),
    undefined,
  );
  const checks = tally(journals.flatMap(hypothesisChecks));
  const lines = [
    `# Chaos suite: ${journals.length} experiment${journals.length === 1 ? "" : "s"}`,
    "",
    `**Worst verdict: ${worst ? STATUS_LABEL[worst.status] : "none"}** · exit code ${worstExit(journals)} · suite resilience score ${scoreText(suiteScore(journals))} · hypothesis: ${checksText(checks)}`,
    "",
    "| Experiment | File | Run | Date (UTC) | Verdict | Checks | Failed | Score | Duration |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...journals.map((j) => {
      const f = figuresOf(j);
      return `| ${[
        j.experiment.title,
        j.experiment.file,
        j.runId,
        runDate(j),
        STATUS_LABEL[j.status],
        String(f.checks.hypothesis.total),
        String(f.checks.hypothesis.failed),
        scoreText(f.score),
        formatDuration(j.durationMs),
      ]
        .map(cell)
        .join(" | ")} |`;
    }),
    "",
  ];
  for (const j of journals.filter((x) => x.exitCode !== 0)) {
    lines.push(
      `## ${text(j.experiment.title)}: ${STATUS_LABEL[j.status]}`,
      "",
      ...j.reasons.map((r) => `- ${text(r)}`),
      "",
    );
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

import type { Journal, ProbeRecord } from "./journal.js";

/**
 * The one counting rule every output shares (journal, terminal, Markdown, JUnit, HTML): a check is one probe
 * sample. A check failed when its sample did not pass its tolerance, or could not be taken.
 */
export interface Tally {
  total: number;
  failed: number;
}

export interface CheckCounts {
  before: Tally;
  during: Tally;
  after: Tally;
  /** The hypothesis checks of the three phases together. */
  hypothesis: Tally;
  stopConditions: Tally;
}

export function tally(records: readonly ProbeRecord[]): Tally {
  return { total: records.length, failed: records.filter((r) => !r.ok).length };
}

/** The check counts of a run, per phase. */
export function countChecks(j: Pick<Journal, "steadyState" | "stopConditions">): CheckCounts {
  const { before, during, after } = j.steadyState;
  return {
    before: tally(before),
    during: tally(during),
    after: tally(after),
    hypothesis: tally([...before, ...during, ...after]),
    stopConditions: tally(j.stopConditions),
  };
}

/** Every hypothesis check of a run (before, during and after), in phase order. */
export function hypothesisChecks(j: Pick<Journal, "steadyState">): ProbeRecord[] {
  const { before, during, after } = j.steadyState;
  return [...before, ...during, ...after];
}

/**
 * The resilience score: the share of hypothesis checks that held, in percent (one decimal), each check
 * weighted by its probe's `weight` (default 1). Undefined when nothing was checked: no evidence, no score.
 * For a suite, pass the checks of every run together.
 */
export function resilienceScore(checks: readonly ProbeRecord[]): number | undefined {
  let all = 0;
  let held = 0;
  for (const r of checks) {
    const w = r.weight ?? 1;
    all += w;
    if (r.ok) held += w;
  }
  return all > 0 ? Math.round((held / all) * 1000) / 10 : undefined;
}

/** The figures a finished run adds to its journal. */
export function runFigures(j: Journal): Pick<Journal, "checks" | "score"> {
  const score = resilienceScore(hypothesisChecks(j));
  return { checks: countChecks(j), ...(score === undefined ? {} : { score }) };
}

/** "12 checks, 3 failed" — the same words in every output. */
export function checksText(t: Tally): string {
  return `${t.total} check${t.total === 1 ? "" : "s"}, ${t.failed} failed`;
}

/** "87.5%", or "n/a" when the run has no hypothesis check. */
export function scoreText(score: number | undefined): string {
  return score === undefined ? "n/a" : `${score}%`;
}

/** A journal's figures: as recorded, or counted now for a journal written before they were recorded. */
export function figuresOf(j: Journal): { checks: CheckCounts; score?: number } {
  const score = j.score ?? resilienceScore(hypothesisChecks(j));
  return { checks: j.checks ?? countChecks(j), ...(score === undefined ? {} : { score }) };
}

/** "hypothesis: 14 checks, 6 failed · resilience score 57.1%" — the line every report and the terminal show. */
export function figuresText(j: Journal): string {
  const { checks, score } = figuresOf(j);
  return `hypothesis: ${checksText(checks.hypothesis)} · resilience score ${scoreText(score)}`;
}

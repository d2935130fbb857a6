import type { Journal, ProbeRecord, RunStatus } from "./journal.js";

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

/**
 * Whether a run judged its hypothesis: it held, deviated, or was already failing before. A run that ended in
 * an error, was aborted, or saw nothing while its faults were live judged nothing, so it has no score.
 */
export function judged(status: RunStatus): boolean {
  return status === "held" || status === "deviated" || status === "not-steady";
}

/** The figures a finished run adds to its journal; `status` is its verdict (no score unless judged). */
export function runFigures(j: Journal, status: RunStatus = j.status): Pick<Journal, "checks" | "score"> {
  const score = judged(status) ? resilienceScore(hypothesisChecks(j)) : undefined;
  return { checks: countChecks(j), ...(score === undefined ? {} : { score }) };
}

/** "12 checks, 3 failed" — the same words in every output. */
export function checksText(t: Tally): string {
  return `${t.total} check${t.total === 1 ? "" : "s"}, ${t.failed} failed`;
}

/** "87.5%", or "—" when the run judged nothing (no hypothesis check, an error, an abort, nothing observed). */
export function scoreText(score: number | undefined): string {
  return score === undefined ? "—" : `${score}%`;
}

/**
 * A journal's figures: as recorded, or counted now for a journal written before they were recorded. A run
 * that judged nothing has no score, whatever an older journal recorded.
 */
export function figuresOf(j: Journal): { checks: CheckCounts; score?: number } {
  const score = judged(j.status) ? (j.score ?? resilienceScore(hypothesisChecks(j))) : undefined;
  return { checks: j.checks ?? countChecks(j), ...(score === undefined ? {} : { score }) };
}

/** "hypothesis: 14 checks, 6 failed · resilience score 57.1%" — the line every report and the terminal show. */
export function figuresText(j: Journal): string {
  const { checks, score } = figuresOf(j);
  return `hypothesis: ${checksText(checks.hypothesis)} · resilience score ${scoreText(score)}`;
}

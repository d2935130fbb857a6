import type { GameDayStatus, TimelineEntry } from "../record.js";

/** The words both renderers use, so that the Markdown and the HTML record say the same thing. */
export const GAMEDAY_STATUS: Record<GameDayStatus, string> = {
  completed: "COMPLETED",
  "no-go": "ENDED AT A NO-GO",
  aborted: "ABORTED",
  "preconditions-failed": "PRECONDITIONS NOT MET",
  error: "ERROR",
};

/** What a timeline entry came to, in a few words. */
export function outcomeOf(e: TimelineEntry): string {
  if (e.status !== "done") return `${e.status}${e.note ? `: ${e.note}` : ""}`;
  if (e.experiment) {
    const x = e.experiment;
    return x.matched ? `${x.outcome}, as predicted` : `${x.outcome}: SURPRISE (predicted ${x.expect})`;
  }
  if (e.decision) return e.decision;
  if (e.answer !== undefined) return `answered: ${e.answer}`;
  if (e.kind === "manual" || (e.kind === "preconditions" && e.by)) return "confirmed";
  return e.note ?? "done";
}

/** `2026-01-02T03:04:05.678Z` → `03:04:05`. */
export const clockOf = (iso: string) => iso.slice(11, 19);

/** A relative link target that no renderer takes for a scheme of its own (`javascript:`). */
export const safeHref = (path: string) => (/^[a-z][a-z0-9+.-]*:/i.test(path) ? `./${path}` : path);

import type { RunEvent } from "../experiments/controller.js";
import { formatDuration } from "../experiments/duration.js";
import type { ProbeRecord } from "../experiments/journal.js";
import { summaryWithUnit } from "../experiments/report/values.js";
import { bold, dim, green, red, yellow } from "./output.js";

/** Colours, or none: the plain renderer passes `false` so a pipe never sees a control character. */
export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

export const COLOURS: Paint = { green, red, yellow, bold, dim };
const id = (s: string) => s;
export const NO_COLOURS: Paint = { green: id, red: id, yellow: id, bold: id, dim: id };

const PHASE_TITLE = {
  before: "steady state before",
  method: "method",
  rollbacks: "rollbacks",
  after: "steady state after",
} as const;

/** ✓ held, ✗ failed its tolerance, ! could not be taken or no answer. */
export function mark(r: Pick<ProbeRecord, "ok" | "outcome">, p: Paint): string {
  if (r.ok) return p.green("✓");
  return r.outcome === "error" || r.outcome === "no-answer" ? p.red("!") : p.red("✗");
}

/** A probe check as one line; a stop condition's says whether it was met, so a ✓ never reads as an alarm. */
export function probeLine(r: ProbeRecord, p: Paint): string {
  const detail = r.summary && r.ok ? summaryWithUnit(r.summary, r.value, r.unit) : r.reason;
  if (r.phase === "stop-when") {
    const state = r.ok ? "not met" : r.outcome === "fail" ? "MET" : "could not be checked";
    return `    ${mark(r, p)} stop condition "${r.probe}" ${state} ${p.dim(`— ${r.ok ? `value ${detail}` : detail}`)}`;
  }
  const phase = r.phase === "during" ? ` ${p.dim(`[${r.phase}]`)}` : "";
  return `    ${mark(r, p)} ${r.probe} ${p.dim(`— ${detail}`)}${phase}`;
}

/**
 * The line an event leaves in the output for good (phases, steps, faults, rollbacks, aborts); probe checks
 * are the renderers' business (they count and fold them).
 */
export function eventLine(e: RunEvent, p: Paint): string | undefined {
  switch (e.type) {
    case "phase":
      return p.bold(`  ▸ ${PHASE_TITLE[e.phase]}${e.note ? p.dim(` (${e.note})`) : ""}`);
    case "activity-start":
      return e.kind === "probe" ? undefined : `    → ${e.name}`;
    case "activity": {
      const r = e.record;
      const m =
        r.status === "succeeded"
          ? p.green("✓")
          : r.status === "skipped" || r.status === "aborted"
            ? p.yellow("-")
            : p.red("✗");
      const extra = r.error
        ? ` — ${r.error}`
        : r.kind === "probe" && r.output
          ? ` — ${(r.output as { summary?: string }).summary ?? ""}`
          : "";
      return `    ${m} ${r.name} ${p.dim(`${r.status} in ${formatDuration(r.durationMs)}${extra}`)}`;
    }
    case "fault-applied":
      return `      ${p.yellow("⚡")} fault live: ${e.fault.step === e.fault.ref ? e.fault.ref : `${e.fault.ref} "${e.fault.step}"`} ${p.dim(`(to revert: ${e.fault.description})`)}`;
    case "rollback":
      return `    ${e.record.status === "succeeded" ? p.green("↺") : p.red("✗")} ${e.record.description}${e.record.error ? p.red(` — ${e.record.error}`) : ""}${e.record.note ? p.yellow(` — ${e.record.note}`) : ""}`;
    case "abort":
      return p.yellow(`  ■ aborting: ${e.reason}`);
    case "acting-on":
      return `  ${p.dim(`◦ ${e.agent} acts on ${e.where}`)}`;
    case "probe":
      return undefined;
  }
}

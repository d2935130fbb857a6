import type { RunEvent } from "../experiments/controller.js";
import { formatDuration } from "../experiments/duration.js";
import type { Journal, ProbeRecord } from "../experiments/journal.js";

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const bold = paint(1);
export const dim = paint(2);

let humanLines: NodeJS.WriteStream = process.stdout;

/** Prints one line for humans: on stdout, unless stdout carries data (`--journal -`). */
export function say(line: string): void {
  humanLines.write(`${line}\n`);
}

/** Sends the human lines to stderr from now on, leaving stdout to data. */
export function sayOnStderr(): void {
  humanLines = process.stderr;
}

function probeLine(r: ProbeRecord): string {
  const mark = r.ok ? green("✓") : r.outcome === "error" || r.outcome === "no-answer" ? red("!") : red("✗");
  const detail = r.summary && r.ok ? r.summary : r.reason;
  return `    ${mark} ${r.probe} ${dim(`— ${detail}`)}`;
}

/** Turns controller events into the human lines of `chaos run`. During-phase probes only print when they fail. */
export function printEvent(e: RunEvent): void {
  switch (e.type) {
    case "phase": {
      const title = {
        before: "steady state before",
        method: "method",
        rollbacks: "rollbacks",
        after: "steady state after",
      }[e.phase];
      say(bold(`  ▸ ${title}${e.note ? dim(` (${e.note})`) : ""}`));
      return;
    }
    case "probe":
      if (e.record.phase === "during" || e.record.phase === "stop-when") {
        if (!e.record.ok) say(`${probeLine(e.record)} ${dim(`[${e.record.phase}]`)}`);
        return;
      }
      if (e.record.phase !== "method") say(probeLine(e.record));
      return;
    case "activity-start":
      if (e.kind !== "probe") say(`    → ${e.name}`);
      return;
    case "activity": {
      const r = e.record;
      const mark =
        r.status === "succeeded"
          ? green("✓")
          : r.status === "skipped" || r.status === "aborted"
            ? yellow("-")
            : red("✗");
      const extra = r.error
        ? ` — ${r.error}`
        : r.kind === "probe" && r.output
          ? ` — ${(r.output as { summary?: string; reason?: string }).summary ?? ""}`
          : "";
      say(`    ${mark} ${r.name} ${dim(`${r.status} in ${formatDuration(r.durationMs)}${extra}`)}`);
      return;
    }
    case "fault-applied":
      say(`      ${yellow("⚡")} fault live ${dim(`(to revert: ${e.fault.description})`)}`);
      return;
    case "rollback":
      say(
        `    ${e.record.status === "succeeded" ? green("↺") : red("✗")} ${e.record.description}${e.record.error ? red(` — ${e.record.error}`) : ""}${e.record.note ? yellow(` — ${e.record.note}`) : ""}`,
      );
      return;
    case "abort":
      say(yellow(`  ■ aborting: ${e.reason}`));
      return;
  }
}

const STATUS_TEXT: Record<Journal["status"], string> = {
  held: "HELD",
  completed: "COMPLETED (nothing judged)",
  deviated: "DEVIATED",
  unobserved: "NOT OBSERVED (nothing checked while a fault was live)",
  "not-steady": "NOT STEADY (nothing injected)",
  aborted: "ABORTED",
  error: "ERROR (the run could not judge)",
};

/** The closing lines: the verdict, why, and where the journal and reports are. */
export function printVerdict(j: Journal, files: string[]): void {
  const paintStatus =
    j.status === "held" ? green : j.status === "aborted" || j.status === "completed" ? yellow : red;
  say("");
  say(
    `${bold("verdict:")} ${paintStatus(bold(STATUS_TEXT[j.status]))} ${dim(`(exit ${j.exitCode}, ${formatDuration(j.durationMs)})`)}`,
  );
  for (const r of j.reasons) say(`  - ${r}`);
  for (const f of files) say(`  ${dim(f)}`);
}

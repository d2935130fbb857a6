import type { RunEvent } from "../experiments/controller.js";
import type { Journal } from "../experiments/journal.js";
import type { Experiment } from "../experiments/model.js";
import { COLOURS, NO_COLOURS } from "./event-lines.js";
import { color, linesToStderr, say } from "./output.js";
import { PlainProgress } from "./progress-plain.js";
import { TtyProgress } from "./progress-tty.js";
import { summaryLines, verdictLine } from "./summary-table.js";

/**
 * How `chaos run` shows a run: a live block in a terminal, timestamped lines in a pipe, only the verdict
 * line (`--quiet`), or only the journal on stdout (`--json`, for scripts).
 */
export type ViewMode = "tty" | "plain" | "quiet" | "json";

export function viewMode(opts: { quiet?: boolean; json?: boolean }, out = process.stdout): ViewMode {
  if (opts.json) return "json";
  if (opts.quiet) return "quiet";
  return out.isTTY && process.env.TERM !== "dumb" ? "tty" : "plain";
}

export interface RunView {
  onEvent(e: RunEvent): void;
  /** The run is about to start: `title` names it. */
  begin(title: string): void;
  /** The run ended: the summary, the verdict and where its files are. */
  end(j: Journal, files: string[]): void;
}

export function createRunView(mode: ViewMode, experiment: Experiment): RunView {
  const paint = color ? COLOURS : NO_COLOURS;
  if (mode === "json") {
    // stdout carries the journal alone: every other line (signals, warnings) goes to stderr.
    linesToStderr();
    return {
      onEvent() {},
      begin() {},
      end: (j) => void process.stdout.write(`${JSON.stringify(j, null, 2)}\n`),
    };
  }
  if (mode === "quiet")
    return {
      onEvent() {},
      begin() {},
      end(j) {
        // The verdict and, on one line, why.
        say(verdictLine(j, paint));
        if (j.reasons[0])
          say(
            `  ${j.reasons[0]}${j.reasons.length > 1 ? paint.dim(` (+${j.reasons.length - 1} more in the report)`) : ""}`,
          );
      },
    };
  if (mode === "tty") {
    const tty = new TtyProgress(experiment, process.stdout);
    return {
      onEvent: (e) => tty.onEvent(e),
      begin(title) {
        say(COLOURS.bold(`▶ ${title}`));
        tty.start();
      },
      end(j, files) {
        tty.stop();
        for (const l of summaryLines(j, files, COLOURS, process.stdout.columns || undefined)) say(l);
      },
    };
  }
  const plain = new PlainProgress(say);
  return {
    onEvent: (e) => plain.onEvent(e),
    begin: (title) => plain.line(`▶ ${title}`),
    end(j, files) {
      plain.flush();
      for (const l of summaryLines(j, files, NO_COLOURS)) say(l);
    },
  };
}

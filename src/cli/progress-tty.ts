import type { RunEvent } from "../experiments/controller.js";
import { formatDuration } from "../experiments/duration.js";
import type { Experiment } from "../experiments/model.js";
import { type ProgressView, RunProgress } from "../experiments/progress.js";
import { redactThenCut } from "../experiments/redact.js";
import { faultLabel } from "../experiments/report/probe-table.js";
import { eventLine, COLOURS as p } from "./event-lines.js";
import { isClosed, writeRedrawn } from "./guard.js";
import { wrapLine } from "./output.js";
import { fitColumns } from "./summary-table.js";

const ESC = "\x1b[";
const REDRAW_MS = 250;

/** Cuts a line to the terminal's width (a wrapped line would break the redraw). `line` has no colours. */
function clip(line: string, width: number): string {
  return redactThenCut(line, width);
}

/** The live block at the bottom of the terminal: phase, live faults, each probe's latest value, checks. */
export function liveBlock(v: ProgressView, elapsedMs: number, width: number): string[] {
  const head = `● ${v.phase ?? "starting"}${v.phaseNote ? ` (${v.phaseNote})` : ""} · ${formatDuration(Math.round(elapsedMs / 100) * 100)}${v.step ? ` · ${v.step}` : ""}`;
  const lines = [p.bold(clip(head, width))];
  for (const f of v.faults.filter((x) => x.live)) {
    const left =
      f.remainingMs === undefined
        ? "until the rollbacks"
        : `${formatDuration(Math.ceil(f.remainingMs / 100) * 100)} left`;
    lines.push(
      `${p.yellow("⚡")} ${clip(`${faultLabel(f.ref, f.step)} · live ${formatDuration(Math.round(f.elapsedMs / 100) * 100)}, ${left}`, width - 2)}`,
    );
  }
  const rows = v.probes.map((pr) => {
    const counts = Object.entries(pr.byPhase)
      // "during 9 (8 failed)": checks taken in the phase, and how many failed
      .map(([phase, t]) => `${phase} ${t.total}${t.failed ? ` (${t.failed} failed)` : ""}`)
      .join(" ");
    return [
      pr.name,
      pr.latest?.value ?? "…",
      `${pr.kind === "stop condition" ? "stop when" : "tolerance"} ${pr.tolerance ?? "-"}`,
      counts,
    ];
  });
  // Narrow: the tolerance goes first (the summary shows it), then names and counts wrap at spaces.
  fitColumns(rows, width - 2, { drop: [2], wrap: [0, 3, 1] }).forEach((texts, i) => {
    const latest = v.probes[i]?.latest;
    const m = !latest ? p.dim("·") : latest.ok ? p.green("✓") : p.red("✗");
    for (const [k, text] of texts.entries()) lines.push(`${k ? " " : m} ${clip(text, width - 2)}`);
  });
  const stops = v.stopChecks.total ? ` · stop-condition checks ${v.stopChecks.total}` : "";
  const checks = `checks ${v.checks.total} done, ${v.checks.failed} failed${stops}`;
  lines.push(v.checks.failed ? p.red(clip(checks, width)) : p.dim(clip(checks, width)));
  if (v.aborting) lines.push(p.yellow(clip(`■ aborting: ${v.aborting}`, width)));
  return lines;
}

/**
 * Progress in a terminal: the lasting lines (phases, steps, faults, rollbacks) scroll as usual, and a live
 * block below them is redrawn in place four times a second.
 */
export class TtyProgress {
  private readonly model: RunProgress;
  private readonly started = Date.now();
  private drawn = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    experiment: Experiment,
    private readonly out: NodeJS.WriteStream,
  ) {
    this.model = new RunProgress(experiment);
  }

  start(): void {
    writeRedrawn(this.out, `${ESC}?25l`);
    process.once("exit", () => writeRedrawn(this.out, `${ESC}?25h`));
    this.timer = setInterval(() => this.draw([]), REDRAW_MS);
    this.timer.unref();
  }

  onEvent(e: RunEvent): void {
    this.model.apply(e, Date.now());
    const text = eventLine(e, p);
    this.draw(text === undefined ? [] : [text]);
  }

  /** A lasting line from outside the run (a GameDay's abort), above the live block, never through it. */
  print(line: string): void {
    this.draw([line]);
  }

  /** Removes the live block for good; the summary follows. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    writeRedrawn(this.out, `${this.erase()}${ESC}?25h`);
    this.drawn = 0;
  }

  private erase(): string {
    return this.drawn ? `${ESC}${this.drawn}F${ESC}0J` : "";
  }

  private draw(lasting: string[]): void {
    // A terminal that is gone (EIO, EPIPE) is never drawn again: the redraw timer stops with it.
    if (isClosed(this.out)) {
      if (this.timer) clearInterval(this.timer);
      return;
    }
    const width = Math.max(20, (this.out.columns || 100) - 3);
    const block = liveBlock(this.model.view(Date.now()), Date.now() - this.started, width).map(
      (l) => `  ${l}`,
    );
    const lines = lasting.flatMap((l) => wrapLine(l, width + 3));
    writeRedrawn(this.out, this.erase(), `${lines.map((l) => `${l}\n`).join("")}${block.join("\n")}\n`);
    this.drawn = block.length;
  }
}

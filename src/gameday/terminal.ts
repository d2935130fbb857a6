import { createInterface, type Interface } from "node:readline/promises";
import { sleep } from "../experiments/clock.js";
import { formatDuration } from "../experiments/duration.js";
import { goNoGo, isAbort, isConfirmation } from "./answers.js";
import type { TimelineEntry } from "./record.js";
import { GameDayAborted, type Interaction } from "./runner.js";

export interface TerminalOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream & { isTTY?: boolean };
  /** Who answers: recorded as the person who confirmed. */
  operator: string;
  /** Called on Ctrl-C, on `abort` typed at any time, and when the terminal closes. */
  onAbort: (reason: string) => void;
  /** The timeline so far, shown above each prompt. */
  timeline: () => readonly TimelineEntry[];
}

const MARK: Record<TimelineEntry["status"], string> = { done: "✓", aborted: "■", failed: "✗" };

/**
 * Asks a person at a terminal. One readline session lasts the whole GameDay, so Ctrl-C and a typed `abort`
 * are heard at a prompt, during a wait and while an experiment runs (its faults are then rolled back).
 */
export class TerminalPrompts implements Interaction {
  private readonly rl: Interface;
  private closing = false;

  constructor(private readonly opts: TerminalOptions) {
    this.rl = createInterface({ input: opts.input, output: opts.output, terminal: true });
    this.rl.on("SIGINT", () => opts.onAbort(`Ctrl-C pressed by ${opts.operator}`));
    // Lines typed while no question is pending (an experiment is running, a countdown is on).
    this.rl.on("line", (line) => {
      if (isAbort(line)) opts.onAbort(`"abort" typed by ${opts.operator}`);
    });
    this.rl.on("close", () => {
      if (!this.closing) opts.onAbort("the terminal closed");
    });
  }

  close(): void {
    this.closing = true;
    this.rl.close();
  }

  private write(text: string): void {
    this.opts.output.write(text);
  }

  /** Asks until `accept` takes the answer; `abort` (or Ctrl-C) rejects with GameDayAborted. */
  private async ask<T>(
    step: string,
    text: string,
    hint: string,
    signal: AbortSignal,
    accept: (a: string) => T | undefined,
  ): Promise<T> {
    const done = this.opts.timeline().map((e) => `${MARK[e.status]} ${e.step}`);
    if (done.length) this.write(`    timeline: ${done.join(" · ")} · ▸ ${step}\n`);
    this.write(`    ${text.split("\n").join("\n    ")}\n`);
    for (;;) {
      let answer: string;
      try {
        answer = await this.rl.question(`    ${hint} › `, { signal });
      } catch {
        throw new GameDayAborted(typeof signal.reason === "string" ? signal.reason : "aborted");
      }
      if (isAbort(answer)) {
        const reason = `"abort" typed at "${step}" by ${this.opts.operator}`;
        this.opts.onAbort(reason);
        throw new GameDayAborted(reason);
      }
      const value = accept(answer);
      if (value !== undefined) return value;
      this.write(`    (${hint})\n`);
    }
  }

  async confirm(step: string, text: string, signal: AbortSignal): Promise<{ by: string }> {
    await this.ask(step, text, 'type "done" to confirm, or "abort"', signal, (a) =>
      isConfirmation(a) ? true : undefined,
    );
    return { by: this.opts.operator };
  }

  async observe(
    step: string,
    question: string,
    signal: AbortSignal,
  ): Promise<{ by: string; answer: string }> {
    const answer = await this.ask(step, question, "your observation", signal, (a) =>
      a.trim() ? a.trim() : undefined,
    );
    return { by: this.opts.operator, answer };
  }

  async decide(step: string, question: string, signal: AbortSignal): Promise<{ by: string; go: boolean }> {
    const go = await this.ask(step, question, "go or no-go", signal, goNoGo);
    return { by: this.opts.operator, go };
  }

  /** A countdown on one line, redrawn every second. */
  async wait(_step: string, ms: number, signal: AbortSignal): Promise<void> {
    const end = Date.now() + ms;
    while (!signal.aborted && Date.now() < end) {
      const left = end - Date.now();
      this.write(`\r    waiting ${formatDuration(Math.ceil(left / 1000) * 1000)} (type "abort" to stop)  `);
      await sleep(Math.min(1000, left), signal);
    }
    this.write("\n");
  }
}

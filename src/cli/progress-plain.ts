import type { RunEvent } from "../experiments/controller.js";
import type { Phase, ProbeRecord } from "../experiments/journal.js";
import { eventLine, NO_COLOURS, probeLine } from "./event-lines.js";

interface Seen {
  probe: string;
  phase: Phase;
  total: number;
  failed: number;
  hidden: number;
  shown: Set<string>;
}

/**
 * Progress for pipes and CI logs: timestamped lines, no control characters, and no probe line repeated
 * within a phase — the first check and the first failure of each probe are shown, the rest are counted in one
 * line when the phase ends.
 */
export class PlainProgress {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly write: (line: string) => void,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  line(text: string): void {
    this.write(`${this.clock().toISOString().slice(11, 23)} ${text}`);
  }

  onEvent(e: RunEvent): void {
    if (e.type === "probe") {
      this.check(e.record);
      return;
    }
    // A new phase ends the checks of the last one: the hypothesis during the method ends with the method.
    if (e.type === "phase") this.flush();
    const text = eventLine(e, NO_COLOURS);
    if (text !== undefined) this.line(text);
  }

  /** Prints the counts of every probe whose lines were folded; call it before the verdict. */
  flush(): void {
    for (const s of this.seen.values()) {
      if (s.total > 1 || s.hidden > 0)
        this.line(
          `    Σ ${s.probe} [${s.phase}]: ${s.total} checks, ${s.failed} failed${s.hidden ? ` (${s.hidden} repeated lines folded)` : ""}`,
        );
    }
    this.seen.clear();
  }

  private check(r: ProbeRecord): void {
    if (r.phase === "method") return; // shown as its step's activity line
    const key = `${r.phase}\u0000${r.probe}`;
    let s = this.seen.get(key);
    if (!s) {
      s = { probe: r.probe, phase: r.phase, total: 0, failed: 0, hidden: 0, shown: new Set() };
      this.seen.set(key, s);
    }
    s.total++;
    if (!r.ok) s.failed++;
    // One line per kind of result (held, failed, could not see) per probe per phase; then a new kind only.
    const kind = r.ok ? "ok" : r.outcome;
    if (s.shown.has(kind)) {
      s.hidden++;
      return;
    }
    s.shown.add(kind);
    this.line(probeLine(r, NO_COLOURS));
  }
}

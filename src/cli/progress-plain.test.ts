import { describe, expect, it } from "vitest";
import type { ProbeRecord } from "../experiments/journal.js";
import { PlainProgress } from "./progress-plain.js";

const check = (phase: ProbeRecord["phase"], ok: boolean, outcome = ok ? "pass" : "fail"): ProbeRecord => ({
  probe: "answers",
  key: "http",
  phase,
  start: "2025-01-15T10:00:00.000Z",
  end: "2025-01-15T10:00:00.010Z",
  durationMs: 10,
  outcome: outcome as ProbeRecord["outcome"],
  ok,
  value: ok ? 200 : 503,
  summary: ok ? "200 in 3ms" : "503 in 3ms",
  reason: ok ? "within tolerance" : "503 is outside tolerance",
});

describe("plain progress lines", () => {
  it("shows a probe's first check and first failure per phase, and counts the rest when the phase ends", () => {
    const lines: string[] = [];
    const plain = new PlainProgress(
      (l) => lines.push(l),
      () => new Date("2025-01-15T10:00:01.250Z"),
    );
    plain.onEvent({ type: "phase", phase: "method" });
    for (const ok of [true, true, false, false, true, false])
      plain.onEvent({ type: "probe", record: check("during", ok) });
    plain.onEvent({ type: "phase", phase: "rollbacks" });
    expect(lines).toEqual([
      "10:00:01.250   ▸ method",
      "10:00:01.250     ✓ answers — 200 in 3ms [during]",
      "10:00:01.250     ✗ answers — 503 is outside tolerance [during]",
      "10:00:01.250     Σ answers [during]: 6 checks, 3 failed (4 repeated lines folded)",
      "10:00:01.250   ▸ rollbacks",
    ]);
  });

  it("a probe that could not be taken is a kind of its own, shown once", () => {
    const lines: string[] = [];
    const plain = new PlainProgress((l) => lines.push(l));
    plain.onEvent({ type: "probe", record: check("after", false, "no-answer") });
    plain.onEvent({ type: "probe", record: check("after", false, "no-answer") });
    plain.onEvent({ type: "probe", record: check("after", true) });
    plain.flush();
    expect(lines.map((l) => l.slice(13))).toEqual([
      "    ! answers — 503 is outside tolerance",
      "    ✓ answers — 200 in 3ms",
      "    Σ answers [after]: 3 checks, 2 failed (1 repeated lines folded)",
    ]);
  });
});

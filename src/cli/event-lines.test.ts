import { describe, expect, it } from "vitest";
import type { ProbeRecord } from "../experiments/journal.js";
import { faultLabel } from "../experiments/report/probe-table.js";
import { NO_COLOURS, probeLine } from "./event-lines.js";

const check = (ok: boolean, outcome: ProbeRecord["outcome"], reason: string): ProbeRecord => ({
  probe: "more than half of checkouts fail",
  key: "prometheus",
  phase: "stop-when",
  start: "2026-01-01T00:00:00.000Z",
  end: "2026-01-01T00:00:00.050Z",
  durationMs: 50,
  outcome,
  ok,
  value: 0,
  summary: "0",
  reason,
});

describe("the words of a run's lines", () => {
  it("a stop condition's check says whether it was met, so a ✓ never reads as an alarm", () => {
    expect(probeLine(check(true, "pass", "0 does not match"), NO_COLOURS)).toBe(
      '    ✓ stop condition "more than half of checkouts fail" not met — value 0',
    );
    expect(probeLine(check(false, "fail", "0.7 matches > 0.5"), NO_COLOURS)).toBe(
      '    ✗ stop condition "more than half of checkouts fail" MET — 0.7 matches > 0.5',
    );
    expect(probeLine(check(false, "error", "Prometheus unreachable"), NO_COLOURS)).toContain(
      "could not be checked — Prometheus unreachable",
    );
  });

  it("an unnamed step is named by its action once, not twice", () => {
    expect(faultLabel("process.suspend", "process.suspend")).toBe("process.suspend");
    expect(faultLabel("process.suspend", "freeze orders")).toBe("process.suspend: freeze orders");
  });
});

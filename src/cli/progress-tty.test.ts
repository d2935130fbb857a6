import { describe, expect, it } from "vitest";
import type { ProgressView } from "../experiments/progress.js";
import { liveBlock } from "./progress-tty.js";

const view: ProgressView = {
  phase: "method",
  step: "freeze the target",
  probes: [
    {
      name: "target answers",
      kind: "hypothesis",
      tolerance: "status 200",
      byPhase: { before: { total: 1, failed: 0 }, during: { total: 12, failed: 3 } },
      latest: { value: "503 in 4ms", ok: false, reason: "503 is outside tolerance", phase: "during" },
      worst: "503",
      records: [],
    },
    { name: "kill switch", kind: "stop condition", tolerance: "> 0.5", byPhase: {}, worst: "", records: [] },
  ],
  faults: [
    {
      step: "freeze the target",
      ref: "process.suspend",
      undo: "resume pid 42",
      appliedAtMs: 0,
      plannedMs: 10_000,
      elapsedMs: 3_000,
      remainingMs: 7_000,
      live: true,
    },
  ],
  checks: { total: 13, failed: 3 },
  stopChecks: { total: 0, failed: 0 },
};

// NO_COLOR is not set in every test environment: compare without escapes.
const plain = (lines: string[]) => lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));

describe("the live block", () => {
  it("shows the phase, each live fault's elapsed and remaining time, every probe's latest value, the checks", () => {
    const lines = plain(liveBlock(view, 4_200, 100));
    expect(lines[0]).toBe("● method · 4.2s · freeze the target");
    expect(lines[1]).toBe("⚡ process.suspend: freeze the target · live 3s, 7s left");
    expect(lines[2]).toMatch(
      /^✗ target answers\s+503 in 4ms\s+tolerance status 200\s+before 1 during 12 \(3 failed\)$/,
    );
    expect(lines[3]).toMatch(/^· kill switch\s+…\s+stop when > 0\.5$/);
    expect(lines[4]).toBe("checks 13 done, 3 failed");
  });

  it("never writes a line wider than the terminal, which would break the redraw", () => {
    for (const l of plain(liveBlock(view, 4_200, 30))) expect([...l].length).toBeLessThanOrEqual(30);
  });

  it("at a narrow width drops the tolerance and wraps names at spaces, keeping the counts whole", () => {
    const lines = plain(liveBlock(view, 4_200, 60));
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(60);
    expect(lines.join("\n")).toContain("before 1 during 12 (3 failed)");
    expect(lines.join("\n")).not.toContain("tolerance status 200");
  });
});

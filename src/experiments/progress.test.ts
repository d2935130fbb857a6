import { describe, expect, it } from "vitest";
import { defaultRegistry } from "../agents/index.js";
import type { ProbeRecord } from "./journal.js";
import { parseExperiment } from "./load.js";
import { RunProgress } from "./progress.js";

const experiment = parseExperiment(
  "progress.yaml",
  `version: 1
title: progress
steady-state:
  probes:
    - name: answers
      http: { url: "http://127.0.0.1:9/health" }
      tolerance: { status: 200 }
    - name: p99
      http: { url: "http://127.0.0.1:9/p99", json-path: "$.p99" }
      tolerance: "< 0.3"
  during: { every: 1s }
stop-when:
  - name: errors
    probe: { http: { url: "http://127.0.0.1:9/errors", json-path: "$.ratio" } }
    when: "> 0.5"
method:
  - action: process.suspend
    name: freeze
    target: { pid-file: /tmp/none.pid }
    duration: 10s
`,
  { registry: defaultRegistry() },
);

const check = (probe: string, phase: ProbeRecord["phase"], value: unknown, ok: boolean): ProbeRecord => ({
  probe,
  key: "http",
  phase,
  start: "2025-01-15T10:00:00.000Z",
  end: "2025-01-15T10:00:00.010Z",
  durationMs: 10,
  outcome: ok ? "pass" : "fail",
  ok,
  value,
  reason: ok ? "within tolerance" : `${value} is outside tolerance`,
});

describe("the progress model", () => {
  it("lists every hypothesis probe and stop condition with its tolerance as text before any check", () => {
    const v = new RunProgress(experiment).view(0);
    expect(v.probes.map((p) => [p.name, p.kind, p.tolerance, p.latest])).toEqual([
      ["answers", "hypothesis", "status 200", undefined],
      ["p99", "hypothesis", "< 0.3", undefined],
      ["errors", "stop condition", "> 0.5", undefined],
    ]);
    expect(v.checks).toEqual({ total: 0, failed: 0 });
  });

  it("counts checks per phase, keeps the latest value and the worst one", () => {
    const p = new RunProgress(experiment);
    p.apply({ type: "phase", phase: "before" }, 0);
    p.apply({ type: "probe", record: check("p99", "before", 0.1, true) }, 10);
    p.apply({ type: "phase", phase: "method" }, 20);
    p.apply({ type: "probe", record: check("p99", "during", 0.9, false) }, 1000);
    p.apply({ type: "probe", record: check("p99", "during", 0.2, true) }, 2000);
    p.apply({ type: "probe", record: check("errors", "stop-when", 0.1, true) }, 2000);
    const v = p.view(2500);
    const p99 = v.probes.find((x) => x.name === "p99")!;
    expect(v.phase).toBe("method");
    expect(p99.byPhase).toEqual({ before: { total: 1, failed: 0 }, during: { total: 2, failed: 1 } });
    expect(p99.latest).toMatchObject({ value: "0.2", ok: true, phase: "during" });
    // under "< 0.3" the largest value is the worst
    expect(p99.worst).toBe("0.9");
    expect(v.checks).toEqual({ total: 3, failed: 1 });
    expect(v.stopChecks).toEqual({ total: 1, failed: 0 });
  });

  it("gives each live fault its elapsed and remaining time, and ends it at its revert", () => {
    const p = new RunProgress(experiment);
    const fault = { step: "freeze", ref: "process.suspend", description: "resume pid 42", appliedAt: "x" };
    p.apply({ type: "fault-applied", fault }, 1_000);
    expect(p.view(4_000).faults[0]).toMatchObject({ live: true, elapsedMs: 3_000, remainingMs: 7_000 });
    p.apply(
      {
        type: "rollback",
        record: {
          description: "resume pid 42",
          source: "automatic",
          start: "x",
          end: "x",
          durationMs: 1,
          status: "succeeded",
        },
      },
      11_000,
    );
    expect(p.view(20_000).faults[0]).toMatchObject({
      live: false,
      elapsedMs: 10_000,
      remainingMs: undefined,
    });
  });

  it("remembers an abort and the step in progress", () => {
    const p = new RunProgress(experiment);
    p.apply({ type: "activity-start", name: "freeze", kind: "action" }, 0);
    expect(p.view(0).step).toBe("freeze");
    p.apply({ type: "abort", reason: "received SIGINT" }, 1);
    expect(p.view(1).aborting).toBe("received SIGINT");
  });
});

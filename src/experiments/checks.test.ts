import { describe, expect, it } from "vitest";
import { defaultRegistry } from "../agents/index.js";
import { countChecks, figuresOf, figuresText, resilienceScore, runFigures } from "./checks.js";
import { ValidationErrors } from "./errors.js";
import type { ProbeRecord } from "./journal.js";
import { parseExperiment } from "./load.js";
import {
  abortedJournal,
  deviatedJournal,
  errorJournal,
  heldJournal,
  notSteadyJournal,
  unobservedJournal,
} from "./report/journals.fixture.js";

const check = (probe: string, ok: boolean, weight?: number): ProbeRecord => ({
  probe,
  key: "http",
  phase: "during",
  start: "2025-01-15T10:00:00.000Z",
  end: "2025-01-15T10:00:00.050Z",
  durationMs: 50,
  outcome: ok ? "pass" : "fail",
  ok,
  reason: ok ? "within tolerance" : "outside tolerance",
  ...(weight === undefined ? {} : { weight }),
});

describe("checks and the resilience score", () => {
  it("counts one check per probe sample, per phase", () => {
    // Counted by hand from the fixture: before 2 samples that held; during 10 error-rate samples (6 failed:
    // two over the tolerance, NaN, empty, Infinity, one not taken) and 3 status samples (503 and teapot
    // failed); after 3 samples, the first error rate failed.
    const c = countChecks(deviatedJournal());
    expect(c.before).toEqual({ total: 2, failed: 0 });
    expect(c.during).toEqual({ total: 13, failed: 8 });
    expect(c.after).toEqual({ total: 3, failed: 1 });
    expect(c.hypothesis).toEqual({ total: 18, failed: 9 });
  });

  it("is the share of hypothesis checks that held, in percent", () => {
    expect(resilienceScore([check("a", true), check("a", true), check("a", false)])).toBe(66.7);
    expect(resilienceScore([check("a", true)])).toBe(100);
  });

  it("weights each check by its probe's weight", () => {
    // a heavy probe that failed once drags the score more than a light one that held twice
    const checks = [check("heavy", false, 3), check("light", true, 1), check("light", true, 1)];
    expect(resilienceScore(checks)).toBe(40);
  });

  it("has no score without a hypothesis check: no evidence, no figure", () => {
    expect(resilienceScore([])).toBeUndefined();
    const j = heldJournal();
    j.steadyState = { before: [], during: [], after: [] };
    expect(runFigures(j)).not.toHaveProperty("score");
    expect(figuresText(j)).toBe("hypothesis: 0 checks, 0 failed · resilience score —");
  });

  it("a run that judged nothing (an error, an abort, nothing observed) has no score, even with checks that held", () => {
    for (const make of [errorJournal, abortedJournal, unobservedJournal]) {
      const j = make();
      expect(j.steadyState.before.length).toBeGreaterThan(0);
      expect(runFigures(j)).not.toHaveProperty("score");
      // an older journal that recorded a score for such a run does not show it
      expect(figuresOf({ ...j, score: 100 })).not.toHaveProperty("score");
      expect(figuresText({ ...j, score: 100 })).toMatch(/resilience score —$/);
    }
    expect(runFigures(notSteadyJournal()).score).toBeDefined();
  });

  it("a held run scores 100% and a deviated one less", () => {
    expect(runFigures(heldJournal()).score).toBe(100);
    expect(runFigures(deviatedJournal()).score).toBeLessThan(100);
  });

  it("reads a probe's weight from the experiment, and refuses one that is not positive", () => {
    const yaml = (weight: string) => `version: 1
title: weighted
steady-state:
  probes:
    - name: answers
      http: { url: "http://127.0.0.1:9/" }
      tolerance: { status: 200 }
      weight: ${weight}
method:
  - pause: 1s
`;
    const e = parseExperiment("w.yaml", yaml("3"), { registry: defaultRegistry() });
    expect(e.steadyState?.probes[0]?.weight).toBe(3);
    expect(() => parseExperiment("w.yaml", yaml("0"), { registry: defaultRegistry() })).toThrow(
      ValidationErrors,
    );
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { describeWithCgroups } from "../support/cgroup.js";
import { ensureCliBuilt } from "../support/cli.js";
import { describeCase, MIN_KILL_POINTS, matrixSeed, runMatrix } from "./matrix.js";
import { INTERRUPTIONS, PHASES, type PhaseName } from "./plan.js";

beforeAll(ensureCliBuilt, 180_000);

describe("the kill matrix", () => {
  it("leaves nothing behind and exits with the journal's verdict, wherever a run is interrupted", async () => {
    const seed = matrixSeed();
    const cases = Number(process.env.KILL_MATRIX_CASES ?? 60);
    // Printed first, so that a failure can be replayed: KILL_MATRIX_SEED=<seed> npx vitest run test/killmatrix
    console.log(`kill matrix: seed ${seed}, ${cases} cases (replay with KILL_MATRIX_SEED=${seed})`);
    // KILL_MATRIX_SCENARIOS=stress,docker replays the cases of some scenarios only.
    const only = process.env.KILL_MATRIX_SCENARIOS?.split(",").filter(Boolean);
    const result = await runMatrix({
      seed,
      cases,
      only,
      concurrency: 2,
      onCase: (r) => console.log(describeCase(r)),
    });
    const failures = result.cases.filter((r) => !r.passed).map(describeCase);
    console.log(`kill matrix: seed ${seed}`, result.figures);
    expect(failures, `seed ${seed}`).toEqual([]);
    expect(result.figures["cases run"]).toBe(cases);
    // A few "after" cases may end before their delayed signal; the rest were interrupted mid-run.
    expect(result.figures["kill points tried"]).toBeGreaterThanOrEqual(Math.min(MIN_KILL_POINTS, cases - 5));
    expect(result.ok).toBe(true);
  }, 420_000);
});

describeWithCgroups("the kill matrix's CPU stress", () => {
  it("SIGKILL in every phase, then chaos rollback: no stressor left, nothing but the victim in its cgroup", async () => {
    const sigkill = INTERRUPTIONS.find((i) => i.name === "SIGKILL")!;
    const plan = (Object.keys(PHASES) as PhaseName[]).map((phase, index) => ({
      index,
      scenario: "stress-cpu",
      phase,
      interruption: sigkill,
      delayMs: Math.round(PHASES[phase].maxDelayMs / 2),
    }));
    const result = await runMatrix({
      plan,
      only: ["stress-cpu"],
      concurrency: 2,
      onCase: (r) => console.log(describeCase(r)),
    });
    expect(result.cases.filter((r) => !r.passed).map(describeCase)).toEqual([]);
    expect(result.cases.map((r) => r.phase)).toEqual(Object.keys(PHASES));
    // Every run was really cut short, and `chaos rollback` ran after each.
    expect(result.cases.filter((r) => r.signal === "SIGKILL" && r.rollbackMs !== undefined)).toHaveLength(
      plan.length,
    );
  }, 120_000);
});

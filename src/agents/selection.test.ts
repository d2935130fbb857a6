import { describe, expect, test } from "vitest";
import { seededRandom, selectTargets } from "./selection.js";

const ten = Array.from({ length: 10 }, (_, i) => i);

describe("target selection", () => {
  test("the same seed picks the same targets, so a run can be replayed", () => {
    const a = selectTargets(ten, { mode: "count", count: 3, seed: 42 });
    const b = selectTargets(ten, { mode: "count", count: 3, seed: 42 });
    expect(a.chosen).toEqual(b.chosen);
    expect(new Set(a.chosen).size).toBe(3);
    expect(a.seed).toBe(42);
  });

  test("different seeds spread the choice over every candidate", () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) seen.add(selectTargets(ten, { mode: "one", seed }).chosen[0]!);
    expect(seen.size).toBe(10);
  });

  test("without a seed a fresh one is chosen and returned for the journal", () => {
    const r = selectTargets(ten, { mode: "one" });
    expect(selectTargets(ten, { mode: "one", seed: r.seed }).chosen).toEqual(r.chosen);
  });

  test("percent rounds up and takes at least one", () => {
    expect(selectTargets(ten, { mode: "percent", percent: 25, seed: 1 }).chosen).toHaveLength(3);
    expect(selectTargets(ten, { mode: "percent", percent: 1, seed: 1 }).chosen).toHaveLength(1);
    expect(selectTargets(ten, { mode: "all" }).chosen).toEqual(ten);
  });

  test("a choice beyond the blast-radius cap is refused", () => {
    expect(() => selectTargets(ten, { mode: "all", max: 3 })).toThrow(
      /would touch 10 targets, more than max 3/,
    );
    expect(selectTargets(ten, { mode: "count", count: 3, max: 3, seed: 5 }).chosen).toHaveLength(3);
  });

  test("the random source is uniform enough", () => {
    const r = seededRandom(7);
    const buckets = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) buckets[Math.floor(r() * 4)]!++;
    for (const b of buckets) expect(b).toBeGreaterThan(850);
  });
});

import { describe, expect, it } from "vitest";
import { ChaosError } from "../../experiments/errors.js";
import { evaluate } from "./evaluate.js";
import { prometheusAgent } from "./index.js";
import { formatValue, reduceValues } from "./reduce.js";

describe("reducing values", () => {
  const points = [1, 5, 3];

  it("takes max, min, avg, sum and last", () => {
    expect(reduceValues(points, "max")).toBe(5);
    expect(reduceValues(points, "min")).toBe(1);
    expect(reduceValues(points, "avg")).toBe(3);
    expect(reduceValues(points, "sum")).toBe(9);
    expect(reduceValues(points, "last")).toBe(3);
  });

  it("yields null for no values at all", () => {
    expect(reduceValues([], "max")).toBeNull();
    expect(reduceValues([], "sum")).toBeNull();
  });

  it("lets one NaN poison every reduction but last", () => {
    for (const rule of ["max", "min", "avg", "sum"] as const)
      expect(reduceValues([1, Number.NaN, 2], rule)).toBeNaN();
    expect(reduceValues([Number.NaN, 2], "last")).toBe(2);
  });

  it("keeps infinities", () => {
    expect(reduceValues([1, Number.POSITIVE_INFINITY], "max")).toBe(Number.POSITIVE_INFINITY);
    expect(reduceValues([Number.NEGATIVE_INFINITY, 1], "min")).toBe(Number.NEGATIVE_INFINITY);
    expect(formatValue(Number.NEGATIVE_INFINITY)).toBe("-Inf");
  });
});

describe("evaluating an answer", () => {
  const args = { query: "q", stepMs: 1000 };
  const three = {
    resultType: "vector" as const,
    series: ["a", "b", "c"].map((route, i) => ({ labels: { route }, value: i + 1 })),
  };

  it("throws an invalid error naming the series when several came back without a rule", () => {
    let err: unknown;
    try {
      evaluate(three, args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChaosError);
    expect((err as ChaosError).code).toBe("invalid");
    expect((err as ChaosError).message).toBe(
      'query returned 3 series ({route="a"}, {route="b"}, {route="c"}) but the probe judges one value',
    );
  });

  it("summarises each series for each and any", () => {
    expect(evaluate(three, { ...args, series: "any" })).toMatchObject({
      value: [1, 2, 3],
      quantifier: "any",
      summary: "any of 3 series: 1, 2, 3",
    });
  });

  it("asks for an aggregate when an instant query returned a range vector", () => {
    const matrix = {
      resultType: "matrix" as const,
      series: [{ labels: {}, points: [[1, 2]] as [number, number][] }],
    };
    expect(() => evaluate(matrix, args)).toThrow(/range vector/);
  });
});

describe("the prometheus agent", () => {
  it("offers the query probe as its default and no actions", () => {
    expect(prometheusAgent.name).toBe("prometheus");
    expect(prometheusAgent.defaultProbe).toBe("query");
    expect(Object.keys(prometheusAgent.probes)).toEqual(["query"]);
    expect(prometheusAgent.actions).toEqual({});
  });

  it("refuses to revert, since it never injects a fault", async () => {
    await expect(
      prometheusAgent.revert({ agent: "prometheus", kind: "x", description: "", data: {} }, {} as never),
    ).rejects.toMatchObject({ code: "agent" });
  });
});

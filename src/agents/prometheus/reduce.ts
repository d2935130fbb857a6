import { ChaosError } from "../../experiments/errors.js";
import { formatDecimal } from "../../experiments/numbers.js";

/** How the points of a range reduce to one value. */
export const AGGREGATES = ["max", "min", "avg", "last"] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** How a vector with several series is judged: each/any keep the series, the rest reduce to one value. */
export const SERIES_RULES = ["each", "any", "sum", "max", "min", "avg"] as const;
export type SeriesRule = (typeof SERIES_RULES)[number];

/** Every way several numbers become one. */
export type Reduction = Aggregate | "sum";

/**
 * Reduces numbers to one; `null` when there is none (empty is its own outcome, never a pass). NaN is kept:
 * one NaN point makes max, min, avg and sum NaN, so a broken ratio cannot hide behind its neighbours.
 * @throws ChaosError("invalid") for an unknown rule.
 */
export function reduceValues(values: number[], rule: Reduction): number | null {
  if (values.length === 0) return null;
  if (rule === "last") return values[values.length - 1]!;
  if (values.some(Number.isNaN)) return Number.NaN;
  switch (rule) {
    case "max":
      return values.reduce((a, b) => Math.max(a, b));
    case "min":
      return values.reduce((a, b) => Math.min(a, b));
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "avg":
      // +Inf with -Inf gives NaN, as in PromQL's avg.
      return values.reduce((a, b) => a + b, 0) / values.length;
    default:
      throw new ChaosError("invalid", `unknown aggregation ${JSON.stringify(rule)}`);
  }
}

/** `{job="api",instance="a:1"}`, or `{}` for a series without labels. */
export function formatLabels(labels: Record<string, string>): string {
  const name = labels.__name__ ?? "";
  const rest = Object.entries(labels)
    .filter(([k]) => k !== "__name__")
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",");
  return `${name}{${rest}}`;
}

/** Formats a value for a summary: 0.013, 0.1766 (4 significant digits), NaN, +Inf, empty. */
export function formatValue(value: number | null): string {
  return value === null ? "empty" : formatDecimal(value);
}

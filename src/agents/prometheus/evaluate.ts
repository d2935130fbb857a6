import { formatDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ProbeResult } from "../agent.js";
import type { QueryArgs } from "./args.js";
import type { QueryResult } from "./client.js";
import { formatLabels, formatValue, reduceValues } from "./reduce.js";

interface Labelled {
  labels: Record<string, string>;
  value: number | null;
  /** A range query's points, [unix seconds, value], kept for tolerances that judge the answer whole. */
  points?: [number, number][];
}

/** One value per series: the sample of a vector, or the points of a matrix reduced by `aggregate`. */
function perSeries(result: QueryResult & { resultType: "vector" | "matrix" }, args: QueryArgs): Labelled[] {
  if (result.resultType === "vector") return result.series;
  const aggregate = args.aggregate;
  if (!aggregate) {
    throw new ChaosError(
      "invalid",
      "the query returned a range vector, which cannot be judged as one value",
      {
        hint: "add range: and aggregate:, or wrap the selector in max_over_time(…), avg_over_time(…)",
      },
    );
  }
  return result.series.map((s) => ({
    labels: s.labels,
    points: s.points,
    value: reduceValues(
      s.points.map((p) => p[1]),
      aggregate,
    ),
  }));
}

function listValues(items: Labelled[]): string {
  const shown = items.slice(0, 5).map((s) => formatValue(s.value));
  return `${shown.join(", ")}${items.length > 5 ? ", …" : ""}`;
}

/**
 * Turns what Prometheus answered into what a tolerance judges, following the probe's `series` rule.
 * @throws ChaosError("invalid") when several series came back and no rule says how to judge them.
 */
export function evaluate(result: QueryResult, args: QueryArgs): ProbeResult {
  const over = args.rangeMs === undefined ? "" : `${args.aggregate} over ${formatDuration(args.rangeMs)}: `;
  if (result.resultType === "scalar") {
    return { value: result.value, fields: { series: 1 }, summary: `${formatValue(result.value)} (scalar)` };
  }
  if (result.resultType === "string") {
    return { value: result.value, fields: { series: 1 }, summary: JSON.stringify(result.value) };
  }
  const items = perSeries(result, args).filter((s) => s.value !== null);
  const n = items.length;
  // A range query says so even when it found nothing: its answer is an (empty) matrix, not a vector.
  const fields = (series: number) =>
    result.resultType === "matrix" ? { series, resultType: "matrix" } : { series };
  const count = `${n} series`;
  const rule = args.series;

  if (rule === "each" || rule === "any") {
    return {
      value: n === 0 ? null : items.map((s) => s.value),
      series: items.map((s) => ({
        labels: s.labels,
        value: s.value,
        ...(s.points ? { points: s.points } : {}),
      })),
      quantifier: rule,
      fields: fields(n),
      summary: n === 0 ? `${over}empty (0 series)` : `${over}${rule} of ${count}: ${listValues(items)}`,
    };
  }
  if (n === 0) return { value: null, fields: fields(0), summary: `${over}empty (0 series)` };
  if (rule) {
    const value = reduceValues(
      items.map((s) => s.value as number),
      rule,
    );
    return { value, fields: fields(n), summary: `${over}${formatValue(value)} (${rule} of ${count})` };
  }
  if (n > 1) {
    const examples = items.slice(0, 3).map((s) => formatLabels(s.labels));
    throw new ChaosError(
      "invalid",
      `query returned ${n} series (${examples.join(", ")}${n > 3 ? ", …" : ""}) but the probe judges one value`,
      { hint: "add series: each | any | sum | max | min | avg, or aggregate in PromQL (sum by (…))" },
    );
  }
  const value = items[0]!.value;
  return { value, fields: fields(1), summary: `${over}${formatValue(value)} (1 series)` };
}

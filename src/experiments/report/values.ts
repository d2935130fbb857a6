import { formatDecimal } from "../numbers.js";
import { redactThenCut } from "../redact.js";
/**
 * Probe values as a report shows them. Journals hold numbers, NaN and ±Infinity as strings (JSON cannot
 * carry them), booleans, strings, null for an empty result, or a list of values for a vector.
 */

/** The finite numbers a value stands for (a vector gives several); booleans count as 1 and 0. */
export function numbersOf(value: unknown): number[] {
  if (Array.isArray(value)) return value.flatMap((v) => (Array.isArray(v) ? [] : numbersOf(v)));
  if (typeof value === "number") return Number.isFinite(value) ? [value] : [];
  if (typeof value === "boolean") return [value ? 1 : 0];
  if (typeof value === "string" && /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) {
    return [Number(value)];
  }
  return [];
}

/** A value's text, numbers (also inside a vector) to 4 significant digits. */
function valueText(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "number") return formatDecimal(value);
  if (typeof value === "string") return value;
  if (Array.isArray(value))
    return `[${value.map((v) => (typeof v === "string" ? JSON.stringify(v) : valueText(v))).join(", ")}]`;
  return JSON.stringify(value) ?? String(value);
}

/** A short, single-line text for a value, numbers rounded for reading; long values are cut with an ellipsis. */
export function formatValue(value: unknown, max = 80): string {
  let text = valueText(value);
  text = text.replace(/\s+/g, " ").trim();
  return redactThenCut(text, max);
}

/** A value with the unit its probe declares (`0.2572 s`, `12.5%`); a value that is not a number stays bare. */
export function formatWithUnit(value: unknown, unit: string | undefined, max = 80): string {
  const text = formatValue(value, max);
  if (!unit || numbersOf(value).length !== 1 || Array.isArray(value) || typeof value === "boolean")
    return text;
  return text + unitSuffix(unit);
}

/**
 * A probe's summary with the unit beside its number: `0.1766 (1 series)` reads `0.1766 s (1 series)`. The
 * number leads the summary or follows its "…: " prefix (`max over 1m: 0.1766 (1 series)`).
 */
export function summaryWithUnit(summary: string, value: unknown, unit: string | undefined): string {
  const bare = formatValue(value, 40);
  const withUnit = formatWithUnit(value, unit, 40);
  if (withUnit === bare || bare === "") return summary;
  if (summary.startsWith(`${bare} `)) return withUnit + summary.slice(bare.length);
  const at = summary.indexOf(`: ${bare} `);
  return at < 0 ? summary : summary.slice(0, at + 2) + withUnit + summary.slice(at + 2 + bare.length);
}

/** What follows a number in `unit`: `%` directly, any other unit after a space, nothing without one. */
export function unitSuffix(unit: string | undefined): string {
  if (!unit) return "";
  return unit === "%" ? "%" : ` ${unit}`;
}

/** A number for axes and summaries: up to 4 significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(n: number): string {
  if (n === 0) return "0";
  const abs = Math.abs(n);
  if (abs >= 1e6 || abs < 1e-3) return n.toExponential(2);
  return String(Number(n.toPrecision(4)));
}

/** Smallest and largest of a list, without spreading it into Math.min (a long series would overflow). */
export function extentOf(numbers: number[]): { min: number; max: number } | undefined {
  if (!numbers.length) return undefined;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const n of numbers) {
    min = Math.min(min, n);
    max = Math.max(max, n);
  }
  return { min, max };
}

/**
 * A tolerance as people write it rather than as JSON: `{"status":200,"latency":"< 300ms"}` reads
 * "status 200, latency < 300ms"; `[0, 5]` reads "between 0 and 5"; a comparison stays as it is.
 */
export function toleranceText(text: string | undefined): string {
  if (text === undefined) return "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const one = (v: unknown): string =>
    Array.isArray(v) ? v.map(one).join(" or ") : typeof v === "string" ? v : JSON.stringify(v);
  if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((n) => typeof n === "number"))
    return `between ${parsed[0]} and ${parsed[1]}`;
  if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
    return Object.entries(parsed)
      .map(([k, v]) => (k === "range" && Array.isArray(v) ? `between ${v[0]} and ${v[1]}` : `${k} ${one(v)}`))
      .join(", ");
  return one(parsed);
}

import { ChaosError } from "./errors.js";

const UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)\s*$/;

/** A duration with its unit. */
export const DURATION_RE = DURATION;

/** Pattern used by the JSON Schemas for duration strings such as `300ms`, `2s`, `1.5m`. */
export const DURATION_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*(us|µs|ms|s|m|h)\\s*$";

/** The longest duration anywhere (24 h): far below the 2^31 − 1 ms a Node.js timer honours. */
export const MAX_DURATION_MS = 24 * 3_600_000;
/** The shortest timeout or interval: shorter is a busy loop, or a timeout that cannot be met. */
export const MIN_PERIOD_MS = 1;

/**
 * What a duration is for, which sets its lower bound: a `length` (a pause, a fault's duration, a deadline)
 * may be 0; a `timeout` or an `interval` between checks must be at least 1 ms.
 */
export type DurationKind = "length" | "timeout" | "interval";

/** JSON Schema of a duration of `kind`: a string with a unit. Its bounds are checked by `valueProblems`. */
export function durationOf(kind: DurationKind, description?: string) {
  return {
    type: "string",
    pattern: DURATION_PATTERN,
    description: description ?? "a duration with a unit: 300ms, 2s, 1m, 1h",
    $comment: `duration:${kind}`,
  } as const;
}

/** JSON Schema for a duration that may be 0 (a length); see `durationOf` for timeouts and intervals. */
export const durationSchema = durationOf("length");

/**
 * Parses `300ms`, `2s`, `1.5m`, `1h` into milliseconds, within the bounds of its kind.
 * @throws ChaosError("invalid") when the value is not a duration with a unit (a bare number says how to write
 *   it), is longer than 24 h, or is a timeout or interval shorter than 1 ms.
 */
export function parseDuration(value: unknown, kind: DurationKind = "length"): number {
  if (typeof value === "number") {
    const n = Number.isFinite(value) ? String(value) : "10";
    throw new ChaosError("invalid", `${value} has no unit`, {
      hint: `a duration needs a unit: write ${n}s or ${n}ms`,
    });
  }
  const m = typeof value === "string" ? DURATION.exec(value) : null;
  if (!m) {
    throw new ChaosError("invalid", `not a duration: ${JSON.stringify(value) ?? String(value)}`, {
      hint: "write a number with a unit: 300ms, 2s, 1m, 1h",
    });
  }
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) {
    throw new ChaosError("invalid", `${String(value).trim()} is longer than the longest duration, 24h`, {
      hint: "write at most 24h",
    });
  }
  if (kind !== "length" && ms < MIN_PERIOD_MS) {
    throw new ChaosError(
      "invalid",
      `${kind === "timeout" ? "a timeout" : "an interval"} must be at least 1ms`,
      {
        hint: kind === "timeout" ? "e.g. 5s" : "e.g. 1s",
      },
    );
  }
  return ms;
}

/** Formats milliseconds for humans: 850ms, 2.5s, 1m30s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}

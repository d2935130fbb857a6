import { ChaosError } from "./errors.js";

const UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)\s*$/;

/** Pattern used by the JSON Schemas for duration strings such as `300ms`, `2s`, `1.5m`. */
export const DURATION_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*(us|µs|ms|s|m|h)\\s*$";

/** JSON Schema for a duration: a string like `2s`, or a number of milliseconds. */
export const durationSchema = {
  description: "a duration such as 300ms, 2s, 1m, 1h (a bare number means milliseconds)",
  oneOf: [
    { type: "string", pattern: DURATION_PATTERN },
    { type: "number", minimum: 0 },
  ],
} as const;

/**
 * Parses `300ms`, `2s`, `1.5m`, `1h` (or a number of milliseconds) into milliseconds.
 * @throws ChaosError("invalid") when the text is not a duration.
 */
export function parseDuration(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === "string") {
    const m = DURATION.exec(value);
    if (m) return Number(m[1]) * UNITS[m[2]!]!;
  }
  throw new ChaosError("invalid", `not a duration: ${JSON.stringify(value)}`, {
    hint: "write a number with a unit: 300ms, 2s, 1m, 1h",
  });
}

/** Formats milliseconds for humans: 850ms, 2.5s, 1m30s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}

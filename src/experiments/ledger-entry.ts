import type { LedgerEntry } from "./ledger.js";

type Check = [field: string, ok: (v: unknown) => boolean, expected: string];

const isString = (v: unknown) => typeof v === "string" && v.length > 0;
const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
const optional = (ok: (v: unknown) => boolean) => (v: unknown) => v === undefined || ok(v);

const ENTRY: Check[] = [
  ["runId", isString, "a run id"],
  ["pid", (v) => Number.isInteger(v) && (v as number) > 0, "a positive integer"],
  ["pidStartTime", optional((v) => Number.isInteger(v) && (v as number) >= 0), "a whole number"],
  ["bootId", optional(isString), "a string"],
  ["experiment", (v) => typeof v === "string", "a string"],
  ["step", (v) => typeof v === "string", "a string"],
  ["recordedAt", (v) => isString(v) && !Number.isNaN(Date.parse(v as string)), "an ISO date"],
  ["locks", optional((v) => Array.isArray(v) && v.every(isString)), "a list of strings"],
  ["revert", isObject, "an object { agent, kind, description, data }"],
];

const REVERT: Check[] = [
  ["agent", isString, "an agent name"],
  ["kind", isString, "a revert kind"],
  ["description", (v) => typeof v === "string", "a string"],
  ["data", isObject, "an object"],
];

/** A value as it appears in a message, cut short: a ledger file may hold anything. */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function firstProblem(value: Record<string, unknown>, checks: Check[], prefix: string): string | undefined {
  for (const [field, ok, expected] of checks) {
    if (!ok(value[field])) {
      const got = value[field] === undefined ? "missing" : `got ${shown(value[field])}`;
      return `${prefix}${field} must be ${expected} (${got})`;
    }
  }
  return undefined;
}

/**
 * Checks one parsed ledger file, which may come from another version, a half-edited file or a bug. Returns
 * the entry (its id is the file name, so that removing it removes that very file) or what is wrong with it.
 */
export function checkEntry(raw: unknown, id: string): LedgerEntry | string {
  if (!isObject(raw)) return `not a ledger entry: expected an object, got ${shown(raw)}`;
  const entry = raw as Record<string, unknown>;
  const problem =
    firstProblem(entry, ENTRY, "") ??
    firstProblem(entry.revert as Record<string, unknown>, REVERT, "revert.");
  return problem ?? ({ ...entry, id } as unknown as LedgerEntry);
}

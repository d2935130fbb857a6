import { DURATION_RE, type DurationKind, parseDuration } from "./duration.js";
import type { ChaosError } from "./errors.js";

/** A problem with one value of an agent's arguments, at a path relative to them. */
export interface ValueProblem {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/**
 * What a JSON Schema cannot say about values it marks: the bounds of a duration (`$comment: "duration:<kind>"`,
 * see `durationOf`) and the syntax of a regular expression (`$comment: "regex"`). Every agent's arguments are held
 * to the same rules as the experiment's own durations. Values of the wrong form are left to the schema check.
 */
export function valueProblems(
  schema: unknown,
  data: unknown,
  path: (string | number)[] = [],
): ValueProblem[] {
  if (schema === null || typeof schema !== "object") return [];
  const s = schema as Record<string, unknown>;
  const out: ValueProblem[] = [];
  const marker = typeof s.$comment === "string" ? s.$comment : "";
  const kind = marker.startsWith("duration:") ? (marker.slice(9) as DurationKind) : undefined;
  if (kind && typeof data === "string" && DURATION_RE.test(data)) {
    try {
      parseDuration(data, kind);
    } catch (err) {
      const e = err as ChaosError;
      out.push({ path, message: e.message, hint: e.hint });
    }
  }
  if (marker === "regex" && typeof data === "string") {
    try {
      new RegExp(data);
    } catch (err) {
      out.push({
        path,
        message: `${JSON.stringify(data)} is not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, "")}`,
        hint: "escape special characters with \\, e.g. \\( for a parenthesis",
      });
    }
  }
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    if (Array.isArray(s[key]))
      for (const sub of s[key] as unknown[]) out.push(...valueProblems(sub, data, path));
  }
  if (data !== null && typeof data === "object" && !Array.isArray(data) && s.properties) {
    const props = s.properties as Record<string, unknown>;
    for (const [k, v] of Object.entries(data))
      if (Object.hasOwn(props, k)) out.push(...valueProblems(props[k], v, [...path, k]));
  }
  if (Array.isArray(data) && s.items)
    data.forEach((v, i) => {
      out.push(...valueProblems(s.items, v, [...path, i]));
    });
  return out;
}

import { ChaosError } from "../../experiments/errors.js";

/**
 * A small JSONPath subset, enough to pick one value out of a health or status document:
 *
 *   $                      the whole document
 *   $.a.b                  member access (identifier characters: letters, digits, _, $, -)
 *   $.a[0].b  $.a[-1]      array index (negative counts from the end)
 *   $['key with space']    quoted member access, single or double quotes, `\` escapes the next character
 *
 * Wildcards, filters and slices are deliberately absent: a probe judges one value.
 */
export type JsonPathSegment = string | number;

const IDENTIFIER = /[A-Za-z0-9_$-]/;

/** A json-path outside the supported subset; `offset` points at the offending character. */
export class JsonPathSyntaxError extends ChaosError {
  readonly offset: number;
  constructor(expression: string, offset: number, what: string) {
    super("invalid", `json-path ${JSON.stringify(expression)}: ${what} at offset ${offset}`, {
      hint: "supported forms: $.a.b, $.a[0].b, $['key with space']",
    });
    this.name = "JsonPathSyntaxError";
    this.offset = offset;
  }
}

/**
 * Parses a JSONPath expression into its segments.
 * @throws JsonPathSyntaxError (a ChaosError "invalid") when the expression is outside the supported subset.
 */
export function parseJsonPath(expression: string): JsonPathSegment[] {
  const fail = (offset: number, what: string): never => {
    throw new JsonPathSyntaxError(expression, offset, what);
  };
  if (!expression.startsWith("$")) fail(0, "must start with $");
  const segments: JsonPathSegment[] = [];
  let i = 1;
  while (i < expression.length) {
    const c = expression[i];
    if (c === ".") {
      const start = ++i;
      while (i < expression.length && IDENTIFIER.test(expression[i]!)) i++;
      if (i === start) fail(start, "expected a member name after '.'");
      segments.push(expression.slice(start, i));
    } else if (c === "[") {
      i++;
      const q = expression[i];
      if (q === "'" || q === '"') {
        let key = "";
        i++;
        while (i < expression.length && expression[i] !== q) {
          if (expression[i] === "\\") i++;
          if (i < expression.length) key += expression[i];
          i++;
        }
        if (i >= expression.length) fail(i, `unterminated quoted key (missing ${q})`);
        i++;
        segments.push(key);
      } else {
        const m = /^-?\d+/.exec(expression.slice(i));
        if (!m) fail(i, "expected an array index or a quoted key after '['");
        segments.push(Number(m![0]));
        i += m![0].length;
      }
      if (expression[i] !== "]") fail(i, "expected ']'");
      i++;
    } else {
      fail(i, `unexpected ${JSON.stringify(c)}`);
    }
  }
  return segments;
}

/**
 * Returns the value at `segments` inside `document`, or `undefined` when any step is missing (a member of a
 * non-object, an index of a non-array, an index out of range). Never throws.
 */
export function selectJsonPath(document: unknown, segments: readonly JsonPathSegment[]): unknown {
  let current: unknown = document;
  for (const segment of segments) {
    if (typeof segment === "number") {
      if (!Array.isArray(current)) return undefined;
      const index = segment < 0 ? current.length + segment : segment;
      if (index < 0 || index >= current.length) return undefined;
      current = current[index];
    } else {
      if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
      if (!Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

/**
 * Parses `expression` and selects it from `document`.
 * @throws JsonPathSyntaxError (a ChaosError "invalid") when the expression is not in the supported subset.
 */
export function evaluateJsonPath(document: unknown, expression: string): unknown {
  return selectJsonPath(document, parseJsonPath(expression));
}

import { ErrBadRequestBody } from "./api-error.js";

/** Describes a JSON syntax error in the words of Go's encoding/json, as Toxiproxy reports it. */
function syntaxError(text: string, err: Error): string {
  const trimmed = text.trimStart();
  if (trimmed === "") return "EOF";
  const first = trimmed[0]!;
  if (!'{["-0123456789tfn'.includes(first))
    return `invalid character '${first}' looking for beginning of value`;
  if (/end of JSON input|Unterminated/i.test(err.message)) return "unexpected EOF";
  const at = /position (\d+)/.exec(err.message);
  const bad = at ? text[Number(at[1])] : undefined;
  return bad === undefined ? "unexpected EOF" : `invalid character '${bad}' looking for beginning of value`;
}

/**
 * Parses a request body like Go's json.Decoder: only the first JSON value counts (trailing text is
 * ignored), and errors read as Go's.
 * @throws ApiError 400 "bad request body: …" when the body is not JSON.
 */
export function decodeBody(text: string): unknown {
  try {
    JSON.parse(text);
    return withLiterals(text);
  } catch (err) {
    const trailing = /non-whitespace character after JSON at position (\d+)/.exec((err as Error).message);
    if (trailing) return decodeBody(text.slice(0, Number(trailing[1])));
    throw ErrBadRequestBody.join(syntaxError(text, err as Error));
  }
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "bool";
  return typeof value; // "string" | "object"
}

const SCALAR = /-?[0-9.eE+-]+|true|false|null/y;

/** The literal text of every number member of the objects decoded, by object and key (the last one wins). */
const literals = new WeakMap<object, Map<string, string>>();

/**
 * Builds the value of a text JSON.parse accepted, recording how each number of an object was written, so
 * that `1.0`, `1e3` or a number too large to be exact can be refused where Go expects an integer.
 */
function withLiterals(text: string): unknown {
  let at = 0;
  const space = (): void => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  };
  const stringToken = (): string => {
    const start = at++;
    while (text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
    at++;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const value = (): { value: unknown; literal?: string } => {
    space();
    const c = text[at]!;
    if (c === "{") {
      at++;
      const obj: Record<string, unknown> = {};
      const raw = new Map<string, string>();
      space();
      if (text[at] === "}") at++;
      else {
        for (;;) {
          space();
          const key = stringToken();
          space();
          at++; // the colon
          const member = value();
          Object.defineProperty(obj, key, {
            value: member.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          if (member.literal === undefined) raw.delete(key);
          else raw.set(key, member.literal);
          space();
          if (text[at++] === "}") break;
        }
      }
      literals.set(obj, raw);
      return { value: obj };
    }
    if (c === "[") {
      at++;
      const list: unknown[] = [];
      space();
      if (text[at] === "]") at++;
      else {
        for (;;) {
          list.push(value().value);
          space();
          if (text[at++] === "]") break;
        }
      }
      return { value: list };
    }
    if (c === '"') return { value: stringToken() };
    SCALAR.lastIndex = at;
    const literal = SCALAR.exec(text)![0];
    at += literal.length;
    const parsed: unknown = JSON.parse(literal);
    return typeof parsed === "number" ? { value: parsed, literal } : { value: parsed };
  };
  return value().value;
}

/** Go's "cannot unmarshal" error for a value of the wrong type. */
export function typeError(value: unknown, goType: string, field?: string): Error {
  const what = field ? `Go struct field ${field}` : "Go value";
  return ErrBadRequestBody.join(`json: cannot unmarshal ${jsonType(value)} into ${what} of type ${goType}`);
}

/** The key of a JSON object matching a Go field: the exact key first, then case-insensitively. */
function keyOf(obj: Record<string, unknown>, key: string): string | undefined {
  if (Object.hasOwn(obj, key)) return key;
  const lower = key.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

function lookup(obj: Record<string, unknown>, key: string): unknown {
  const found = keyOf(obj, key);
  return found === undefined ? undefined : obj[found];
}

/** Reads the body as a Go struct: an object, or null (no fields). @throws ApiError 400 for anything else. */
export function asStruct(value: unknown, goType: string): Record<string, unknown> {
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw typeError(value, goType);
  return value as Record<string, unknown>;
}

/** A string field; undefined when absent or null. @throws ApiError 400 when of another type. */
export function stringField(obj: Record<string, unknown>, key: string, struct: string): string | undefined {
  const v = lookup(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw typeError(v, "string", `${struct}.${key}`);
  return v;
}

/** A boolean field; undefined when absent or null. @throws ApiError 400 when of another type. */
export function boolField(obj: Record<string, unknown>, key: string, struct: string): boolean | undefined {
  const v = lookup(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw typeError(v, "bool", `${struct}.${key}`);
  return v;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A number field. As Go decodes into an integer, `int64` and `int` accept only integer literals: `1.0`
 * and `1e3` are refused, and so is anything past 2^53, which a JavaScript number cannot hold exactly
 * (Go would take up to 2^63 − 1). `float32` refuses what overflows it.
 * @throws ApiError 400 when of another type or out of range.
 */
export function numberField(
  obj: Record<string, unknown>,
  key: string,
  struct: string,
  goType: "int64" | "int" | "float32",
): number | undefined {
  const found = keyOf(obj, key);
  const v = found === undefined ? undefined : obj[found];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number") throw typeError(v, goType, `${struct}.${key}`);
  const literal = literals.get(obj)?.get(found!) ?? String(v);
  const refuse = (why = ""): never => {
    throw ErrBadRequestBody.join(
      `json: cannot unmarshal number ${literal} into Go struct field ${struct}.${key} of type ${goType}${why}`,
    );
  };
  if (goType === "float32") {
    if (Math.abs(v) > FLOAT32_MAX) refuse();
    return v;
  }
  if (!/^-?\d+$/.test(literal)) refuse();
  if (!Number.isSafeInteger(v)) refuse(" (integers of magnitude 2^53 or more are not supported)");
  return v;
}

/** A nested object field; undefined when absent or null. @throws ApiError 400 when not an object. */
export function objectField(
  obj: Record<string, unknown>,
  key: string,
  struct: string,
  goType: string,
): Record<string, unknown> | undefined {
  const v = lookup(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw typeError(v, goType, `${struct}.${key}`);
  return v as Record<string, unknown>;
}

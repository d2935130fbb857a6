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
    return JSON.parse(text);
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

/** Go's "cannot unmarshal" error for a value of the wrong type. */
export function typeError(value: unknown, goType: string, field?: string): Error {
  const what = field ? `Go struct field ${field}` : "Go value";
  return ErrBadRequestBody.join(`json: cannot unmarshal ${jsonType(value)} into ${what} of type ${goType}`);
}

/** A field of a JSON object matched as Go does: the exact key first, then case-insensitively. */
function lookup(obj: Record<string, unknown>, key: string): unknown {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  const found = Object.keys(obj).find((k) => k.toLowerCase() === lower);
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

/** A number field (`int64` rejects fractions, as Go does). @throws ApiError 400 when of another type. */
export function numberField(
  obj: Record<string, unknown>,
  key: string,
  struct: string,
  goType: "int64" | "int" | "float32",
): number | undefined {
  const v = lookup(obj, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number") throw typeError(v, goType, `${struct}.${key}`);
  if (goType !== "float32" && !Number.isInteger(v)) {
    throw ErrBadRequestBody.join(
      `json: cannot unmarshal number ${v} into Go struct field ${struct}.${key} of type ${goType}`,
    );
  }
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

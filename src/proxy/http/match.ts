import { ErrBadRequestBody } from "../api-error.js";
import { type Header, type RequestHead, valuesOf } from "./head.js";

/**
 * Which requests an HTTP toxic acts on; every field given must match. A response is matched by the
 * request it answers.
 */
export interface Match {
  /** Methods, upper case; empty = any. */
  method: string[];
  /** The path without its query: exact, or a glob when it holds `*` (`*` within a segment, `**` across). */
  path: string;
  /** A path prefix (`/api` matches `/api` and `/api/v1/x`). */
  path_prefix: string;
  /** Header values by name (case-insensitive name; value exact, or a glob with `*`). */
  headers: Record<string, string>;
}

export const ANY: Match = { method: [], path: "", path_prefix: "", headers: {} };

const globs = new Map<string, RegExp>();

/** A glob as a regular expression: `**` any characters, `*` any but `/`, `?` one character but `/`. */
function glob(pattern: string, slashes: boolean): RegExp {
  const key = `${slashes}${pattern}`;
  let re = globs.get(key);
  if (!re) {
    const body = pattern
      .split(/(\*\*|\*|\?)/)
      .map((part) => {
        if (part === "**") return ".*";
        if (part === "*") return slashes ? "[^/]*" : ".*";
        if (part === "?") return slashes ? "[^/]" : ".";
        return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("");
    re = new RegExp(`^${body}$`, "s");
    if (globs.size < 1024) globs.set(key, re);
  }
  return re;
}

function matchesValue(pattern: string, value: string, slashes: boolean): boolean {
  return pattern.includes("*") || (slashes && pattern.includes("?"))
    ? glob(pattern, slashes).test(value)
    : pattern === value;
}

export function matches(match: Match, request: RequestHead): boolean {
  if (match.method.length > 0 && !match.method.includes(request.method.toUpperCase())) return false;
  if (match.path && !matchesValue(match.path, request.path, true)) return false;
  if (match.path_prefix && !prefixed(request.path, match.path_prefix)) return false;
  for (const [name, pattern] of Object.entries(match.headers)) {
    if (!valuesOf(request.headers as Header[], name).some((v) => matchesValue(pattern, v, false)))
      return false;
  }
  return true;
}

function prefixed(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  return prefix.endsWith("/") || path.length === prefix.length || path[prefix.length] === "/";
}

/**
 * Decodes `match` over `base`: fields given replace the base's.
 * @throws ApiError 400 naming the field that is not of the expected type.
 */
export function decodeMatch(given: unknown, base: Match, struct: string): Match {
  if (given === undefined || given === null) return base;
  const bad = (field: string, want: string): never => {
    throw ErrBadRequestBody.join(`${struct}: match.${field} must be ${want}`);
  };
  if (typeof given !== "object" || Array.isArray(given)) bad("", "an object");
  const input = given as Record<string, unknown>;
  const known = ["method", "path", "path_prefix", "headers"];
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) bad(key, `one of ${known.join(", ")} (unknown field)`);
  }
  const out: Match = { ...base };
  if (input.method !== undefined) {
    const list = typeof input.method === "string" ? [input.method] : input.method;
    if (!Array.isArray(list) || !list.every((m) => typeof m === "string" && /^[A-Za-z-]+$/.test(m))) {
      bad("method", "a method name or a list of them");
    }
    out.method = (list as string[]).map((m) => m.toUpperCase());
  }
  for (const key of ["path", "path_prefix"] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== "string" || (value !== "" && !value.startsWith("/") && value !== "*")) {
      bad(key, 'a path starting with "/"');
    }
    out[key] = value as string;
  }
  if (input.headers !== undefined) out.headers = stringMap(input.headers, `match.headers`, struct);
  return out;
}

/** An object of string values (header names to values). @throws ApiError 400 otherwise. */
export function stringMap(value: unknown, field: string, struct: string): Record<string, string> {
  if (
    typeof value !== "object" ||
    value === null ||
    Array.isArray(value) ||
    !Object.entries(value).every(([k, v]) => typeof v === "string" && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k))
  ) {
    throw ErrBadRequestBody.join(`${struct}: ${field} must map header names to string values`);
  }
  for (const v of Object.values(value)) {
    if (/[\r\n\0]/.test(v as string))
      throw ErrBadRequestBody.join(`${struct}: ${field} values cannot hold line breaks`);
  }
  return { ...(value as Record<string, string>) };
}

import { createRequire } from "node:module";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import type { JsonSchema } from "../contract/agent.js";
import { AJV_OPTIONS, schemaKey } from "./schema-key.js";
import type { Path } from "./source.js";
import { didYouMean } from "./suggest.js";

/** One schema violation, in words a user can act on, at a path into the checked data. */
export interface SchemaProblem {
  path: Path;
  /** Point at the key rather than its value (unknown keys). */
  atKey?: boolean;
  message: string;
  hint?: string;
}

/**
 * The validators `npm run build` precompiled (scripts/compile-schemas.mjs), by schema key; absent when running
 * from source, where every schema is compiled on first use.
 */
const precompiled: Record<string, ValidateFunction> = await import(
  // A variable, so that the compiler does not look for a module that only exists once built.
  `${"./schema/compiled.js"}`
).catch(() => ({}));
const cache = new WeakMap<object, ValidateFunction>();
let ajv: { compile(schema: object): ValidateFunction } | undefined;

/** Ajv's compiler is loaded only for a schema that was not precompiled (one an extra agent brings). */
function compile(schema: JsonSchema): ValidateFunction {
  if (!ajv) {
    const { Ajv2020 } = createRequire(import.meta.url)(
      "ajv/dist/2020.js",
    ) as typeof import("ajv/dist/2020.js");
    ajv = new Ajv2020(AJV_OPTIONS);
  }
  return ajv.compile(schema);
}

function compiled(schema: JsonSchema): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    v = precompiled[schemaKey(schema)] ?? compile(schema);
    cache.set(schema, v);
  }
  return v;
}

function toPath(instancePath: string): Path {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function describe(e: ErrorObject): string | undefined {
  const d = (e.parentSchema as { description?: string } | undefined)?.description;
  return d;
}

/**
 * The keys of a "name exactly one of these keys" choice (`oneOf: [{ required: [a] }, { required: [b] }]`),
 * or undefined when the alternatives are anything else.
 */
function keyChoice(e: ErrorObject): string[] | undefined {
  if (e.keyword !== "oneOf" && e.keyword !== "anyOf") return undefined;
  const alts = (e.parentSchema as Record<string, unknown> | undefined)?.[e.keyword];
  if (!Array.isArray(alts) || alts.length === 0) return undefined;
  const keys: string[] = [];
  for (const a of alts as Record<string, unknown>[]) {
    const req = a.required;
    const others = Object.keys(a).filter((k) => k !== "required" && k !== "properties");
    if (others.length > 0 || !Array.isArray(req) || req.length !== 1) return undefined;
    keys.push(String(req[0]));
  }
  return keys;
}

function translate(e: ErrorObject): SchemaProblem | undefined {
  const path = toPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const choice = keyChoice(e);
  if (choice) {
    const exactly = e.keyword === "oneOf" ? "exactly one" : "at least one";
    return { path, message: `needs ${exactly} of ${choice.join(", ")}` };
  }
  switch (e.keyword) {
    case "if":
      return undefined;
    case "additionalProperties": {
      const key = String(p.additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown key "${key}"`,
        hint: didYouMean(key, known),
      };
    }
    case "required":
      return { path, message: `missing required key "${p.missingProperty}"` };
    case "type":
      if (
        String((e.parentSchema as { $comment?: unknown } | undefined)?.$comment).startsWith("duration:") &&
        typeof e.data === "number"
      ) {
        const n = Number.isFinite(e.data) ? String(e.data) : "10";
        return {
          path,
          message: `${e.data} has no unit`,
          hint: `a duration needs a unit: write ${n}s or ${n}ms`,
        };
      }
      return { path, message: `expected ${p.type}, got ${typeOf(e.data)}`, hint: describe(e) };
    case "const":
      return { path, message: `must be ${JSON.stringify(p.allowedValue)}, got ${JSON.stringify(e.data)}` };
    case "enum":
      return {
        path,
        message: `${JSON.stringify(e.data)} is not allowed`,
        hint: `use one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "anyOf":
    case "oneOf":
      return { path, message: `${typeOf(e.data)} is not valid here`, hint: describe(e) };
    case "minItems":
      return { path, message: `needs at least ${p.limit} item${p.limit === 1 ? "" : "s"}` };
    case "maxItems":
      return { path, message: `allows at most ${p.limit} item${p.limit === 1 ? "" : "s"}` };
    case "minProperties":
      return { path, message: `needs at least ${p.limit} key${p.limit === 1 ? "" : "s"}`, hint: describe(e) };
    case "maxProperties":
      return { path, message: `allows at most ${p.limit} key${p.limit === 1 ? "" : "s"}`, hint: describe(e) };
    case "pattern":
      return {
        path,
        message: `${JSON.stringify(e.data)} has the wrong form`,
        hint: describe(e) ?? `must match ${p.pattern}`,
      };
    case "minLength":
      return { path, message: "must not be empty" };
    case "not":
      return { path, message: (e.schema as { description?: string }).description ?? "is not allowed here" };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { path, message: `${JSON.stringify(e.data)} ${e.message}` };
    default:
      return { path, message: e.message ?? e.keyword, hint: describe(e) };
  }
}

/**
 * Validates `data` against `schema` and returns every problem, most specific first: when a value fails an
 * anyOf, the branch errors are folded into one line for that value.
 */
export function checkSchema(schema: JsonSchema, data: unknown): SchemaProblem[] {
  const validate = compiled(schema);
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  // An anyOf/oneOf failure is reported once for its value, unless the value had the right shape for a
  // branch and failed deeper inside it (an unknown key in a tolerance mapping): then the deeper problem wins.
  const structural = new Set(["additionalProperties", "required", "enum", "minProperties", "maxProperties"]);
  const alternatives = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  const dropped = new Set<ErrorObject>();
  // Errors sorted by the value they are about, so that those under a value are found by binary search: a file
  // with thousands of problems stays linear-ish instead of comparing every error with every alternative.
  const byPath = [...errors].sort((a, b) =>
    a.instancePath < b.instancePath ? -1 : a.instancePath > b.instancePath ? 1 : 0,
  );
  const under = (prefix: string): ErrorObject[] => {
    let lo = 0;
    let hi = byPath.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byPath[mid]!.instancePath < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: ErrorObject[] = [];
    for (let i = lo; i < byPath.length && byPath[i]!.instancePath.startsWith(prefix); i++)
      out.push(byPath[i]!);
    return out;
  };
  for (const alt of alternatives) {
    const base = alt.schemaPath.replace(/\/(anyOf|oneOf)$/, "/");
    // An error inside the value belongs to a branch even when its schemaPath went through a $ref; at the
    // value itself, only the branches' own errors do.
    const branch = under(alt.instancePath).filter(
      (e) =>
        e !== alt &&
        (e.instancePath === alt.instancePath
          ? e.schemaPath.startsWith(base)
          : e.instancePath.startsWith(`${alt.instancePath}/`)),
    );
    // "exactly one of these keys": the missing-key errors of each branch would only confuse.
    if (keyChoice(alt)) {
      for (const e of branch) if (e.schemaPath.startsWith(`${alt.schemaPath}/`)) dropped.add(e);
      continue;
    }
    const deeper = new Set(
      branch.filter((e) => e.instancePath !== alt.instancePath || structural.has(e.keyword)),
    );
    for (const e of branch) if (!deeper.has(e)) dropped.add(e);
    if (deeper.size) dropped.add(alt);
  }
  const kept = errors.filter((e) => !dropped.has(e));
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  for (const e of kept) {
    const t = translate(e);
    if (!t) continue;
    const k = `${t.path.join("/")}|${t.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(t);
  }
  return out;
}

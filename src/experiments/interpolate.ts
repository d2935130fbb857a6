import type { Redactor } from "./redact.js";
import type { Path } from "./source.js";

/**
 * `${configuration.a.b}`, `${secrets.name}`, `${env:NAME}` and `${env:NAME:-default}` in string values.
 * A string that is exactly one reference takes the referenced value's type (a number stays a number).
 *
 * Interpolation happens once, when an experiment is loaded: a resolved value is data and is never read as a
 * template again, so an environment variable holding `${secrets.b}` stays that literal text. A string that
 * uses a secret becomes a SecretTemplate, whose secret parts are filled in only when a run hands the value to
 * an agent (`bindSecrets`), so that validation needs no secret and nothing printed holds one.
 *
 * Inside `configuration`, `${configuration.…}` is not allowed: a configuration value names a value, an
 * environment variable or a secret, never another configuration value (one rule for validate, plan and run).
 */
const REF = /\$\{([^}]*)\}/g;

export interface InterpolationProblem {
  path: Path;
  message: string;
  hint: string;
}

export interface Scope {
  /** Absent while `configuration` itself is read: a reference to it is then a problem. */
  configuration?: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  secretNames: Set<string>;
}

type Part = string | { secret: string };

/** A string built from literal text and secrets; JSON shows it as written (`Bearer ${secrets.token}`). */
export class SecretTemplate {
  constructor(readonly parts: readonly Part[]) {}

  /** The value with each secret as its reference. */
  get text(): string {
    return this.parts.map((p) => (typeof p === "string" ? p : `\${secrets.${p.secret}}`)).join("");
  }

  toJSON(): string {
    return this.text;
  }

  toString(): string {
    return this.text;
  }
}

type Lookup =
  | { found: true; value: unknown }
  | { found: false; message: string; hint: string }
  | { secret: string };

function lookup(scope: Scope, expr: string): Lookup {
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(expr);
  if (env) {
    const v = scope.env[env[1]!];
    if (v !== undefined && v !== "") return { found: true, value: v };
    if (env[2] !== undefined) return { found: true, value: env[2] };
    return {
      found: false,
      message: `environment variable ${env[1]} is not set`,
      hint: `set ${env[1]}, or give a default: \${env:${env[1]}:-value}`,
    };
  }
  const [root, ...rest] = expr.trim().split(".");
  if (root === "secrets" && rest.length === 1) {
    const name = rest[0]!;
    if (scope.secretNames.has(name)) return { secret: name };
    return {
      found: false,
      message: `unknown secret "${name}"`,
      hint: "declare it under secrets: { name: { env: VAR } }",
    };
  }
  if (root === "configuration" && !scope.configuration) {
    return {
      found: false,
      message: "a configuration value cannot refer to another configuration value",
      hint: "write the value out, or use ${env:NAME:-default} in both places",
    };
  }
  if (root === "configuration" && rest.length >= 1 && scope.configuration) {
    let v: unknown = scope.configuration;
    for (const k of rest) {
      if (v === null || typeof v !== "object" || v instanceof SecretTemplate || !Object.hasOwn(v, k)) {
        return {
          found: false,
          message: `unknown configuration value "${rest.join(".")}"`,
          hint: "declare it under configuration:",
        };
      }
      v = (v as Record<string, unknown>)[k];
    }
    return { found: true, value: v };
  }
  return {
    found: false,
    message: `cannot resolve \${${expr}}`,
    hint: "use ${configuration.name}, ${secrets.name}, ${env:NAME} or ${env:NAME:-default}",
  };
}

/** Resolves references in one string; problems are reported through `problem`. */
function resolveString(
  text: string,
  scope: Scope,
  problem: (message: string, hint: string) => void,
): unknown {
  if (!text.includes("${")) return text;
  const whole = /^\$\{([^}]*)\}$/.exec(text);
  if (whole) {
    const r = lookup(scope, whole[1]!);
    if ("secret" in r) return new SecretTemplate([{ secret: r.secret }]);
    if (r.found) return r.value;
    problem(r.message, r.hint);
    return text;
  }
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(REF)) {
    parts.push(text.slice(last, m.index));
    last = m.index + m[0].length;
    const r = lookup(scope, m[1]!);
    if ("secret" in r) parts.push({ secret: r.secret });
    else if (!r.found) {
      problem(r.message, r.hint);
      parts.push(m[0]);
    } else if (r.value instanceof SecretTemplate) parts.push(...r.value.parts);
    else parts.push(typeof r.value === "string" ? r.value : JSON.stringify(r.value));
  }
  parts.push(text.slice(last));
  if (parts.every((p) => typeof p === "string")) return parts.join("");
  const merged: Part[] = [];
  for (const p of parts) {
    const prev = merged[merged.length - 1];
    if (typeof p === "string" && typeof prev === "string") merged[merged.length - 1] = prev + p;
    else if (p !== "") merged.push(p);
  }
  return new SecretTemplate(merged);
}

/** Returns a copy of `value` with every reference resolved, collecting problems with their paths. */
export function interpolate(
  value: unknown,
  scope: Scope,
  problems: InterpolationProblem[] = [],
  path: Path = [],
): unknown {
  if (typeof value === "string") {
    return resolveString(value, scope, (message, hint) => problems.push({ path: [...path], message, hint }));
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out.push(interpolate(value[i], scope, problems, path));
      path.pop();
    }
    return out;
  }
  if (value !== null && typeof value === "object" && !(value instanceof SecretTemplate)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      path.push(k);
      out[k] = interpolate(v, scope, problems, path);
      path.pop();
    }
    return out;
  }
  return value;
}

/** The value as validation sees it: each SecretTemplate as its text with the references. */
export function withReferences(value: unknown): unknown {
  if (value instanceof SecretTemplate) return value.text;
  if (Array.isArray(value)) return value.map(withReferences);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = withReferences(v);
    return out;
  }
  return value;
}

/**
 * Fills in the secrets of every SecretTemplate in `value`; everything else is returned as it is, never
 * expanded again. Each built string, and the basic-authentication form of a `username`/`password` pair built
 * from secrets, is registered with `redactor` before it is returned.
 * @throws Error when a template names a secret missing from `secrets` (the loader checked the names).
 */
export function bindSecrets(value: unknown, secrets: Record<string, string>, redactor: Redactor): unknown {
  if (value instanceof SecretTemplate) {
    const used: string[] = [];
    const built = value.parts
      .map((p) => {
        if (typeof p === "string") return p;
        const s = secrets[p.secret];
        if (s === undefined) throw new Error(`secret "${p.secret}" was not resolved`);
        used.push(s);
        return s;
      })
      .join("");
    redactor.addBuilt(built, used);
    return built;
  }
  if (Array.isArray(value)) return value.map((v) => bindSecrets(v, secrets, redactor));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    let fromSecret = false;
    for (const [k, v] of Object.entries(value)) {
      out[k] = bindSecrets(v, secrets, redactor);
      if (v instanceof SecretTemplate) fromSecret = true;
    }
    const user = out.username ?? out.user;
    if (fromSecret && typeof user === "string" && typeof out.password === "string")
      redactor.addBasicAuth(`${user}:${out.password}`);
    return out;
  }
  return value;
}

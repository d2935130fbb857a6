import type { Path } from "./source.js";

/**
 * `${configuration.a.b}`, `${secrets.name}`, `${env:NAME}` and `${env:NAME:-default}` in string values.
 * A string that is exactly one reference takes the referenced value's type (a number stays a number).
 * Secrets are left as written at load time and bound only when a run hands values to an agent, so that
 * validation needs no secret and nothing resolved can leak into what is printed.
 */
const REF = /\$\{([^}]*)\}/g;

export interface InterpolationProblem {
  path: Path;
  message: string;
  hint: string;
}

export interface Scope {
  configuration?: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  /** When absent, `${secrets.x}` is kept as written (only its name is checked against `secretNames`). */
  secrets?: Record<string, string>;
  secretNames?: Set<string>;
}

function lookup(
  scope: Scope,
  expr: string,
): { found: true; value: unknown } | { found: false; message: string; hint: string } | { keep: true } {
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
    if (scope.secrets) {
      if (name in scope.secrets) return { found: true, value: scope.secrets[name] };
    } else if (scope.secretNames?.has(name)) return { keep: true };
    return {
      found: false,
      message: `unknown secret "${name}"`,
      hint: "declare it under secrets: { name: { env: VAR } }",
    };
  }
  if (root === "configuration" && rest.length >= 1 && scope.configuration) {
    let v: unknown = scope.configuration;
    for (const k of rest) {
      if (v === null || typeof v !== "object" || !(k in (v as object))) {
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
  if (root === "configuration" && !scope.configuration) return { keep: true };
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
  const whole = /^\$\{([^}]*)\}$/.exec(text);
  if (whole) {
    const r = lookup(scope, whole[1]!);
    if ("keep" in r) return text;
    if (r.found) return r.value;
    problem(r.message, r.hint);
    return text;
  }
  return text.replace(REF, (match, expr: string) => {
    const r = lookup(scope, expr);
    if ("keep" in r) return match;
    if (r.found) return typeof r.value === "string" ? r.value : JSON.stringify(r.value);
    problem(r.message, r.hint);
    return match;
  });
}

/** Returns a copy of `value` with every reference resolved, collecting problems with their paths. */
export function interpolate(
  value: unknown,
  scope: Scope,
  problems: InterpolationProblem[] = [],
  path: Path = [],
): unknown {
  if (typeof value === "string") {
    return resolveString(value, scope, (message, hint) => problems.push({ path, message, hint }));
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, scope, problems, [...path, i]));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, scope, problems, [...path, k]);
    return out;
  }
  return value;
}

/** Replaces every secret value found in `text` by `***`. */
export function redactText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join("***");
  return out;
}

/** Deep copy with every secret value replaced by `***` in every string. */
export function redactDeep<T>(value: T, secrets: string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === "string") return redactText(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, secrets);
    return out as T;
  }
  return value;
}

import type { Path } from "./source.js";

interface ProblemSink {
  add(path: Path, message: string, opts?: { hint?: string }): void;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The experiment's `configuration` with values from the command line set over it, before any `${…}` is
 * resolved (so `${configuration.base_url}` sees the override). A name may be dotted (`toxiproxy.url`) to reach
 * into a mapping. Only names the experiment declares can be set: a typo would otherwise be silently ignored,
 * so it is reported at `configuration` with the names that exist.
 */
export function withVars(configuration: unknown, vars: Record<string, unknown>, problems: ProblemSink): Obj {
  const out: Obj = structuredClone(isObj(configuration) ? configuration : {});
  for (const [name, value] of Object.entries(vars)) {
    const keys = name.split(".");
    let at: Obj = out;
    for (const k of keys.slice(0, -1)) {
      // Own keys only: `toString` or `__proto__` must never reach Object.prototype.
      const next = Object.hasOwn(at, k) ? at[k] : undefined;
      if (!isObj(next)) break;
      at = next;
    }
    const last = keys[keys.length - 1]!;
    if (at === out && keys.length > 1 && !(Object.hasOwn(out, keys[0]!) && isObj(out[keys[0]!]))) {
      problems.add(["configuration"], `--var ${name}: the configuration has no mapping "${keys[0]}"`, {
        hint: `known: ${Object.keys(out).join(", ") || "(none)"}`,
      });
    } else if (!Object.hasOwn(at, last)) {
      problems.add(["configuration"], `--var ${name}: the configuration has no value "${name}"`, {
        hint: `declare it under configuration first; known: ${Object.keys(at).join(", ") || "(none)"}`,
      });
    } else at[last] = value;
  }
  return out;
}

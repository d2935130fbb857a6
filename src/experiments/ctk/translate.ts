import type { Path } from "../source.js";
import { isObj, type Obj, type ProblemSink, seconds, Translation } from "./context.js";
import { type Mapped, mapProvider } from "./providers.js";
import { pythonName, UNDO } from "./python.js";
import { checkCtkTolerance } from "./tolerance.js";

/**
 * Chaos Toolkit experiment (JSON or YAML) ──▶ our experiment document, which the usual loader then reads:
 *
 *   configuration {k: v | {type: env, key, default, env_var_type}}  ──▶ configuration (${env:KEY:-default})
 *   secrets {scope: {k: v | {type: env, key}}}                        ──▶ secrets {k: {value} | {env}}
 *   steady-state-hypothesis.probes[]  ──▶ steady-state.probes[] (tolerance: { chaostoolkit: … }, a probe
 *                                         tolerance too: its provider runs when the check is judged)
 *   method[] / rollbacks[]            ──▶ method[] / rollbacks[] (pauses become pause steps; ref is copied)
 *   controls: chaosaddons safeguards  ──▶ stop-when[]; other controls are listed as ignored
 *
 * `chaos run` runs the result, and `chaos import` writes it out: the same translation, so both give the
 * same verdict.
 */

/** The values of Chaos Toolkit's --hypothesis-strategy that map onto our phases. */
export const HYPOTHESIS_STRATEGIES = [
  "default",
  "before-method-only",
  "after-method-only",
  "during-method-only",
  "continuously",
] as const;

/** The values of Chaos Toolkit's --rollback-strategy (chaoslib/run.py `run_rollback`). */
export const ROLLBACK_STRATEGIES = ["default", "always", "never", "deviated"] as const;

export interface Strategy {
  /** Chaos Toolkit's --hypothesis-strategy. */
  hypothesis: (typeof HYPOTHESIS_STRATEGIES)[number];
  /** Chaos Toolkit's --rollback-strategy: when the experiment's own rollbacks run. */
  rollback: (typeof ROLLBACK_STRATEGIES)[number];
  /** Seconds between checks while the method runs (Chaos Toolkit's --hypothesis-frequency, default 1). */
  frequency: number;
  /** Stop the method at the first deviation while it runs (Chaos Toolkit's --fail-fast). */
  failFast: boolean;
  /**
   * Checked only before and after the method, a run cannot show the hypothesis held while faults were live,
   * so it is "not observed"; this accepts that on purpose (our `during: none`).
   */
  acceptUnobserved: boolean;
}

export const DEFAULT_STRATEGY: Strategy = {
  hypothesis: "default",
  rollback: "default",
  frequency: 1,
  failFast: false,
  acceptUnobserved: false,
};

export interface TranslateOptions {
  /** --var and --var-file: set over the configuration, Chaos Toolkit style (new names are added). */
  vars?: Record<string, unknown>;
  strategy?: Strategy;
}

export interface Translated {
  document: Obj;
  translation: Translation;
}

/** A Chaos Toolkit experiment has a `steady-state-hypothesis`, or activities with `type` and `provider`. */
export function isCtkExperiment(data: unknown): boolean {
  if (!isObj(data)) return false;
  if ("steady-state-hypothesis" in data) return true;
  const activities = [data.method, data.rollbacks].flatMap((l) => (Array.isArray(l) ? l : []));
  return activities.some(
    (a) => isObj(a) && ((typeof a.type === "string" && "provider" in a) || typeof a.ref === "string"),
  );
}

const TOP_KEYS = [
  "version",
  "title",
  "description",
  "tags",
  "contributions",
  "configuration",
  "secrets",
  "extensions",
  "controls",
  "steady-state-hypothesis",
  "method",
  "rollbacks",
  "runtime",
];

function configuration(raw: unknown, vars: Obj, t: Translation, out: Obj): void {
  const conf = isObj(raw) ? raw : {};
  for (const [k, v] of Object.entries(conf)) {
    const at = ["configuration", k];
    t.from(["configuration", k], at);
    if (k in vars) {
      out[k] = vars[k];
      continue;
    }
    if (isObj(v) && v.type === "env") {
      if (typeof v.key !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.key)) {
        t.problems.add([...at, "key"], "an env configuration value needs key, an environment variable name");
        continue;
      }
      const def = v.default === undefined || v.default === null ? "" : `:-${String(v.default)}`;
      out[k] = `\${env:${v.key}${def}}`;
      if (v.env_var_type !== undefined) {
        if (!["int", "float", "bool", "str", "json"].includes(String(v.env_var_type)))
          t.problems.add([...at, "env_var_type"], `unknown env_var_type ${JSON.stringify(v.env_var_type)}`, {
            hint: "int, float, bool, str or json",
          });
        else if (v.env_var_type !== "str")
          t.note(
            ["configuration", k],
            `env_var_type ${v.env_var_type}: the value is used where it is referenced; as a whole value it keeps its text`,
          );
      }
    } else if (isObj(v) && v.type === "probe") {
      t.problems.add(at, "a configuration value loaded by a probe has no equivalent", {
        hint: "set it with --var or an env value",
      });
    } else if (isObj(v) && "type" in v) {
      t.problems.add([...at, "type"], `configuration type ${JSON.stringify(v.type)} is not supported`, {
        hint: "env",
      });
    } else out[k] = v;
  }
  // Chaos Toolkit merges --var names the experiment does not declare.
  for (const [k, v] of Object.entries(vars)) if (!(k in out)) out[k] = v;
  // chaosprometheus finds Prometheus through prometheus_base_url.
  if (out.prometheus === undefined && out.prometheus_base_url !== undefined) {
    out.prometheus = { url: String(out.prometheus_base_url) };
    t.from(["configuration", "prometheus"], ["configuration", "prometheus_base_url"]);
  }
  // chaostoxi finds Toxiproxy through toxiproxy_url, or toxiproxy_host and toxiproxy_port (default 8474).
  if (out.toxiproxy === undefined && (out.toxiproxy_url !== undefined || out.toxiproxy_host !== undefined)) {
    // Composed from the values themselves: a configuration value may not refer to another one.
    const url =
      out.toxiproxy_url !== undefined
        ? String(out.toxiproxy_url)
        : `http://${String(out.toxiproxy_host)}:${String(out.toxiproxy_port ?? 8474)}`;
    out.toxiproxy = { url };
    t.from(
      ["configuration", "toxiproxy"],
      ["configuration", out.toxiproxy_url !== undefined ? "toxiproxy_url" : "toxiproxy_host"],
    );
  }
}

function secrets(raw: unknown, t: Translation, out: Obj): void {
  if (raw === undefined) return;
  if (!isObj(raw)) {
    t.problems.add(["secrets"], "secrets must be a mapping of scopes to secrets");
    return;
  }
  for (const [scope, entries] of Object.entries(raw)) {
    if (!isObj(entries)) {
      t.problems.add(["secrets", scope], "a secrets scope is a mapping of names to secrets");
      continue;
    }
    for (const [k, v] of Object.entries(entries)) {
      const at = ["secrets", scope, k];
      t.from(["secrets", k], at);
      if (k in out)
        t.note(["secrets", k], `secret ${k} is declared in several scopes; the last one wins here`);
      if (typeof v === "string") {
        out[k] = { value: v };
        t.note(
          ["secrets", k],
          "written in the experiment, as in the original; better read it from the environment: { env: NAME }",
        );
      } else if (isObj(v) && v.type === "env" && typeof v.key === "string") out[k] = { env: v.key };
      else if (isObj(v) && v.type === "vault")
        t.problems.add([...at, "type"], "vault secrets are not supported", {
          hint: "export the secret as an environment variable and write { type: env, key: NAME }",
        });
      else t.problems.add(at, "a secret is a text or { type: env, key: NAME }");
    }
  }
}

interface ActivityContext {
  t: Translation;
  /** Activities with a name, for `ref`. */
  byName: Map<string, { activity: Obj; at: Path }>;
  strategy: Strategy;
}

/** Resolves a `ref` to the earlier activity it names. */
function resolve(a: Obj, at: Path, c: ActivityContext): { activity: Obj; at: Path } | undefined {
  if (!("ref" in a)) return { activity: a, at };
  if (typeof a.ref !== "string" || a.ref === "") {
    c.t.problems.add([...at, "ref"], "a reference to an activity must be a non-empty text");
    return undefined;
  }
  const target = c.byName.get(a.ref);
  if (!target) {
    c.t.problems.add([...at, "ref"], `no earlier activity is named "${a.ref}"`, {
      hint: `known: ${[...c.byName.keys()].join(", ") || "(none)"}`,
    });
    return undefined;
  }
  return target;
}

function checkActivity(a: Obj, at: Path, t: Translation): boolean {
  let ok = true;
  if (a.type !== "probe" && a.type !== "action") {
    t.problems.add([...at, "type"], `'${String(a.type ?? "")}' is not a supported activity type`, {
      hint: "probe or action",
    });
    ok = false;
  }
  if (typeof a.name !== "string" || a.name === "") {
    t.problems.add(at, "an activity must have a name");
    ok = false;
  }
  if (a.timeout !== undefined && typeof a.timeout !== "number") {
    t.problems.add([...at, "timeout"], "activity timeout must be a number");
    ok = false;
  }
  if (a.pauses !== undefined) {
    const p = isObj(a.pauses) ? a.pauses : {};
    for (const k of ["before", "after"])
      if (p[k] !== undefined && typeof p[k] !== "number") {
        t.problems.add([...at, "pauses", k], `activity ${k} pause must be a number`);
        ok = false;
      }
  }
  if ("background" in a && typeof a.background !== "boolean") {
    t.problems.add([...at, "background"], "activity background must be a boolean");
    ok = false;
  }
  return ok;
}

function tolerance(
  value: unknown,
  at: Path,
  ours: Path,
  t: Translation,
  mapped: Mapped,
  expectedStatus: unknown,
  native: boolean,
): unknown {
  const problems = checkCtkTolerance(value);
  for (const p of problems) t.problems.add([...at, ...p.path], p.message, { hint: p.hint });
  if (problems.length) return undefined;
  const tol = t.substitute(value, at);
  if (isObj(tol) && tol.type === "probe") {
    const p = isObj(tol.provider) ? tol.provider : {};
    t.note(
      ours,
      `the tolerance probe "${String(tol.name)}" runs with arguments.value set to this probe's output (${
        p.type === "process"
          ? "a process gets `value` and Python's str() of the output"
          : "requests' encoding: JSON with the Content-Type header application/json, else the output's keys"
      }); as in Chaos Toolkit it is met whenever it returns, whatever its status, and not met when it cannot run`,
    );
  }
  // Where our own tolerance means exactly the same, it is written natively.
  if (native && mapped.kind === "probe" && mapped.key === "http" && expectedStatus === undefined) {
    if (Number.isInteger(tol)) return { status: tol };
    if (Array.isArray(tol) && tol.length > 0 && tol.every(Number.isInteger)) return { status: tol };
  }
  if (native && mapped.kind === "probe" && mapped.key === "process.exec" && Number.isInteger(tol))
    return { value: `== ${tol}` };
  const out: Obj = { chaostoolkit: tol };
  if (expectedStatus !== undefined) out.status = expectedStatus;
  if (mapped.kind === "probe" && mapped.toleranceShape) out.output = mapped.toleranceShape;
  return out;
}

/**
 * A hypothesis or safeguard probe: one of our probes with its tolerance (written natively where ours means
 * the same, unless `native` is false).
 */
function hypothesisProbe(
  raw: unknown,
  at: Path,
  ours: Path,
  c: ActivityContext,
  native = true,
): Obj | undefined {
  const { t } = c;
  if (!isObj(raw)) {
    t.problems.add(at, "an activity is a mapping");
    return undefined;
  }
  const r = resolve(raw, at, c);
  if (!r) return undefined;
  const { activity: a, at: from } = r;
  if (!("ref" in raw) && !checkActivity(a, from, t)) return undefined;
  if (typeof a.name === "string" && !("ref" in raw)) c.byName.set(a.name, { activity: a, at: from });
  if (a.type !== "probe") {
    t.problems.add([...at, "type"], "the steady-state hypothesis holds probes only");
    return undefined;
  }
  t.from(ours, from);
  const mapped = mapProvider(a.provider, "probe", false, [...from, "provider"], ours, t);
  if (!("tolerance" in a)) {
    t.problems.add(from, "hypothesis probe must have a tolerance entry");
    return undefined;
  }
  if (mapped?.kind !== "probe") return undefined;
  const provider = isObj(a.provider) ? a.provider : {};
  const tol = tolerance(
    a.tolerance,
    [...from, "tolerance"],
    [...ours, "tolerance"],
    t,
    mapped,
    provider.expected_status,
    native,
  );
  if (tol === undefined) return undefined;
  const pauses = isObj(a.pauses) ? a.pauses : {};
  if (pauses.before || pauses.after)
    t.note(ours, "pauses of a hypothesis probe are not kept: the hypothesis is checked as one");
  return {
    name: a.name,
    [mapped.key]: mapped.args,
    tolerance: tol,
    ...(typeof a.timeout === "number" ? { timeout: seconds(a.timeout) } : {}),
  };
}

/** A method or rollback activity: its steps (pauses around it, then the action or probe). */
function steps(raw: unknown, at: Path, ours: Obj[], c: ActivityContext, inRollbacks: boolean): Obj[] {
  const { t } = c;
  if (!isObj(raw)) {
    t.problems.add(at, "an activity is a mapping");
    return [];
  }
  const r = resolve(raw, at, c);
  if (!r) return [];
  const { activity: a, at: from } = r;
  if (!("ref" in raw) && !checkActivity(a, from, t)) return [];
  if (typeof a.name === "string" && !("ref" in raw)) c.byName.set(a.name, { activity: a, at: from });
  const provider = isObj(a.provider) ? a.provider : {};
  if (inRollbacks && provider.type === "python" && UNDO.has(pythonName(provider))) {
    t.note(
      ["rollbacks"],
      `"${String(a.name)}" (${pythonName(provider)}) is done by the run itself: every fault is reverted automatically`,
    );
    return [];
  }
  const index = ours.length;
  const base = inRollbacks ? ["rollbacks"] : ["method"];
  const here = (n: number): Path => [...base, index + n];
  const out: Obj[] = [];
  const pauses = isObj(a.pauses) ? a.pauses : {};
  if (typeof pauses.before === "number" && pauses.before > 0) {
    if (inRollbacks) t.note(base, `pause before "${String(a.name)}" is not kept in rollbacks`);
    else out.push({ pause: seconds(pauses.before) });
  }
  const stepAt = here(out.length);
  t.from(stepAt, from);
  const mapped = mapProvider(
    a.provider,
    a.type === "probe" ? "probe" : "action",
    true,
    [...from, "provider"],
    stepAt,
    t,
  );
  if (!mapped) return [];
  if (mapped.kind === "probe") {
    if (inRollbacks) {
      t.problems.add(
        from,
        `rollback "${String(a.name)}" is a request or a probe; rollbacks here are actions`,
        {
          hint: "a process provider runs as an action in rollbacks",
        },
      );
      return [];
    }
    if (a.tolerance !== undefined)
      t.note(stepAt, "the tolerance of a method probe is not judged by Chaos Toolkit; it is left out");
    out.push({
      probe: {
        name: a.name,
        [mapped.key]: mapped.args,
        ...(typeof a.timeout === "number" ? { timeout: seconds(a.timeout) } : {}),
      },
      ...(a.background === true ? { background: true } : {}),
    });
  } else {
    out.push({
      name: a.name,
      action: mapped.ref,
      ...(mapped.target ? { target: mapped.target } : {}),
      ...(Object.keys(mapped.args).length ? { args: mapped.args } : {}),
      ...(a.background === true && !inRollbacks ? { background: true } : {}),
      ...(typeof a.timeout === "number" ? { timeout: seconds(a.timeout) } : {}),
    });
  }
  if (typeof pauses.after === "number" && pauses.after > 0) {
    if (inRollbacks) t.note(base, `pause after "${String(a.name)}" is not kept in rollbacks`);
    else out.push({ pause: seconds(pauses.after) });
  }
  return out;
}

/** chaosaddons safeguards: each probe becomes a stop condition, met when its tolerance is not. */
function controls(raw: unknown, c: ActivityContext, stopWhen: Obj[]): void {
  const { t } = c;
  if (raw === undefined) return;
  if (!Array.isArray(raw)) {
    t.problems.add(["controls"], "controls must be a list");
    return;
  }
  raw.forEach((ctl, i) => {
    const at = ["controls", i];
    if (!isObj(ctl)) {
      t.problems.add(at, "a control is a mapping");
      return;
    }
    const p = isObj(ctl.provider) ? ctl.provider : {};
    const name = `${String(p.module ?? "?")}`;
    if (p.module !== "chaosaddons.controls.safeguards") {
      t.ignored.push(`control "${String(ctl.name ?? name)}" (${name}) has no equivalent and is ignored`);
      return;
    }
    const args = isObj(p.arguments) ? p.arguments : {};
    if (!Array.isArray(args.probes)) {
      t.problems.add([...at, "provider", "arguments", "probes"], "safeguards need a list of probes");
      return;
    }
    args.probes.forEach((probe, j) => {
      const pat = [...at, "provider", "arguments", "probes", j];
      const ours = ["stop-when", stopWhen.length];
      const hp = hypothesisProbe(probe, pat, [...ours, "probe"], c, false);
      if (!hp) return;
      const { name: probeName, tolerance: tol, timeout, ...provider } = hp;
      // status (expected_status) and output stay beside the tolerance.
      const { chaostoolkit: unmet, ...beside } = tol as Obj;
      const pr = isObj(probe) ? probe : {};
      t.from(ours, pat);
      const every = typeof pr.frequency === "number" ? seconds(pr.frequency) : "1s";
      if (typeof pr.frequency !== "number")
        t.note(ours, "a safeguard without frequency runs once in Chaos Toolkit; here it is checked every 1s");
      stopWhen.push({
        name: `safeguard: ${String(probeName)}`,
        probe: { ...provider, ...(timeout ? { timeout } : {}) },
        when: { "chaostoolkit-unmet": unmet, ...beside },
        every,
      });
    });
  });
}

/**
 * --rollback-strategy onto our rollbacks (chaoslib/run.py `run_rollback`). Every fault is reverted whatever
 * it says; it chooses only whether the experiment's own rollback steps run. `never` drops them (emptying
 * `rollbacks`); the others become `rollbacks-when`.
 */
function rollbackStrategy(strategy: Strategy, rollbacks: Obj[], t: Translation): string | undefined {
  if (!rollbacks.length || strategy.rollback === "always") return undefined;
  if (strategy.rollback === "never") {
    rollbacks.length = 0;
    t.note([], "rollbacks are not run (--rollback-strategy never); every fault is still reverted by the run");
    return undefined;
  }
  t.note(
    ["rollbacks"],
    "the hypothesis after the method is checked here after the rollbacks, as recovery: whether they run is decided by what the run knows before them (not steady, a deviation during the method, an interruption)",
  );
  return strategy.rollback === "deviated" ? "deviated" : "not-failed";
}

function steadyState(raw: unknown, c: ActivityContext): Obj | undefined {
  const { t, strategy } = c;
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) {
    t.problems.add(
      ["steady-state-hypothesis"],
      "the steady-state hypothesis is a mapping with title and probes",
    );
    return undefined;
  }
  if (!raw.title) t.problems.add(["steady-state-hypothesis"], "hypothesis requires a title");
  const probes: Obj[] = [];
  const list = raw.probes === undefined ? [] : raw.probes;
  if (!Array.isArray(list)) t.problems.add(["steady-state-hypothesis", "probes"], "probes must be a list");
  else
    list.forEach((p, i) => {
      const probe = hypothesisProbe(
        p,
        ["steady-state-hypothesis", "probes", i],
        ["steady-state", "probes", probes.length],
        c,
      );
      if (probe) probes.push(probe);
    });
  if (!probes.length) return undefined;
  t.from(["steady-state"], ["steady-state-hypothesis"]);
  // chaoslib/run.py: should_run_before_method, should_run_during_method, should_run_after_method.
  const h = strategy.hypothesis;
  const out: Obj = { probes };
  if (h === "after-method-only" || h === "during-method-only") out.before = "none";
  if (h === "continuously" || h === "during-method-only")
    out.during = { every: seconds(strategy.frequency), ...(strategy.failFast ? { "fail-fast": true } : {}) };
  else if (strategy.acceptUnobserved) out.during = "none";
  else
    t.note(
      ["steady-state"],
      `not checked during the method (Chaos Toolkit's ${h} strategy): a run with faults is not observed; run with --hypothesis-strategy continuously or during-method-only to check during the method, or --accept-unobserved`,
    );
  out.after = h === "before-method-only" || h === "during-method-only" ? "none" : { within: "0s" };
  return out;
}

/**
 * Translates a Chaos Toolkit experiment into our document. Every problem is reported to `problems` at its
 * place in the Chaos Toolkit file; the document holds what could be translated.
 */
export function translateCtk(raw: Obj, problems: ProblemSink, opts: TranslateOptions = {}): Translated {
  const strategy = opts.strategy ?? DEFAULT_STRATEGY;
  const vars = opts.vars ?? {};
  for (const k of Object.keys(raw))
    if (!TOP_KEYS.includes(k))
      problems.add([k], `unknown key "${k}" in a Chaos Toolkit experiment`, {
        atKey: true,
        hint: TOP_KEYS.join(", "),
      });
  const secretOut: Obj = {};
  const confNames = new Set([
    ...Object.keys(isObj(raw.configuration) ? raw.configuration : {}),
    ...Object.keys(vars),
  ]);
  const secretNames = new Set(
    Object.values(isObj(raw.secrets) ? raw.secrets : {}).flatMap((s) => (isObj(s) ? Object.keys(s) : [])),
  );
  const t = new Translation(problems, { configuration: confNames, secrets: secretNames });
  if (typeof raw.title !== "string" || raw.title === "") problems.add([], "an experiment requires a title");
  if (!Array.isArray(raw.method) || raw.method.length === 0)
    problems.add(
      raw.method === undefined ? [] : ["method"],
      "an experiment requires a method with at least one activity",
    );

  const conf: Obj = {};
  configuration(raw.configuration, vars, t, conf);
  secrets(raw.secrets, t, secretOut);
  const c: ActivityContext = { t, byName: new Map(), strategy };
  const steady = steadyState(raw["steady-state-hypothesis"], c);
  const method: Obj[] = [];
  (Array.isArray(raw.method) ? raw.method : []).forEach((a, i) => {
    method.push(...steps(a, ["method", i], method, c, false));
  });
  const rollbacks: Obj[] = [];
  if (raw.rollbacks !== undefined && !Array.isArray(raw.rollbacks))
    problems.add(["rollbacks"], "rollbacks must be a list");
  (Array.isArray(raw.rollbacks) ? raw.rollbacks : []).forEach((a, i) => {
    rollbacks.push(...steps(a, ["rollbacks", i], rollbacks, c, true));
  });
  const rollbacksWhen = rollbackStrategy(strategy, rollbacks, t);
  const stopWhen: Obj[] = [];
  controls(raw.controls, c, stopWhen);
  if (isObj(raw.extensions) || Array.isArray(raw.extensions))
    t.note([], "extensions are kept by Chaos Toolkit for its plugins; they are not used here");

  t.from(["title"], ["title"]);
  t.from(["method"], ["method"]);
  t.from(["rollbacks"], ["rollbacks"]);
  const tags = Array.isArray(raw.tags) ? raw.tags.map(String) : [];
  const document: Obj = {
    version: 1,
    title: typeof raw.title === "string" ? raw.title : "",
    ...(typeof raw.description === "string" ? { description: raw.description } : {}),
    ...(tags.length ? { tags } : {}),
    ...(Object.keys(conf).length ? { configuration: conf } : {}),
    ...(Object.keys(secretOut).length ? { secrets: secretOut } : {}),
    ...(steady ? { "steady-state": steady } : {}),
    ...(stopWhen.length ? { "stop-when": stopWhen } : {}),
    method: method.length ? method : [{ pause: "0s" }],
    ...(rollbacks.length ? { rollbacks } : {}),
    ...(rollbacksWhen ? { "rollbacks-when": rollbacksWhen } : {}),
  };
  return { document, translation: t };
}

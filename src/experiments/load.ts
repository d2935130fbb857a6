import type { Registry } from "../agents/registry.js";
import type { JsonSchema } from "../contract/agent.js";
import { notificationTargets } from "../telemetry/settings.js";
import { isCtkExperiment, type Strategy, translateCtk } from "./ctk/translate.js";
import { type DurationKind, parseDuration } from "./duration.js";
import { ChaosError, ValidationErrors } from "./errors.js";
import { readInput } from "./input.js";
import { interpolate, withReferences } from "./interpolate.js";
import type { ActionStep, Experiment, ProbeSpec, SecretSource, Step, StopCondition } from "./model.js";
import experimentSchema from "./schema/experiment.schema.json" with { type: "json" };
import { checkSchema } from "./schema-check.js";
import { valueProblems } from "./schema-values.js";
import { type Path, SourceFile } from "./source.js";
import { closest, didYouMean } from "./suggest.js";
import { parseTolerance, ToleranceError } from "./tolerance.js";
import { withVars } from "./vars.js";

export interface LoadOptions {
  registry: Registry;
  env?: NodeJS.ProcessEnv;
  /** The largest file read, in bytes (default: $CHAOS_MAX_INPUT_BYTES, else 1 MiB). */
  maxBytes?: number;
  /** `configuration` values set from the command line (`--var`, `--var-file`); see vars.ts. */
  vars?: Record<string, unknown>;
  /** How a Chaos Toolkit experiment's hypothesis and rollbacks are run (its --hypothesis-strategy …). */
  strategy?: Strategy;
}

/** Problems listed in full; past this many, the rest are counted. */
export const MAX_PROBLEMS = 100;

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const PROBE_FIELDS = ["name", "tolerance", "timeout", "weight", "unit"];

function isScalarAt(data: unknown, path: Path): boolean {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return false;
    v = (v as Record<string, unknown>)[seg];
  }
  return v !== undefined && (v === null || typeof v !== "object");
}

/** Collects problems with their source positions while an experiment (or a runbook) is read. */
export class Problems {
  readonly list: ChaosError[] = [];
  /** Problems found past MAX_PROBLEMS: counted, not located. */
  more = 0;
  private readonly scalarsReported = new Set<string>();
  /** `src` is the file read, or a document made from it that locates its parts in that file. */
  constructor(private readonly src: Pick<SourceFile, "data" | "locate">) {}

  get count(): number {
    return this.list.length + this.more;
  }

  add(path: Path, message: string, opts: { hint?: string; atKey?: boolean; offset?: number } = {}): void {
    // One problem per scalar value: an unresolved ${…} or a malformed value would otherwise be reported
    // again by each later check of the same value (schema, tolerance parser, the agent's own check).
    if (isScalarAt(this.src.data, path)) {
      const key = JSON.stringify(path);
      if (this.scalarsReported.has(key)) return;
      this.scalarsReported.add(key);
    }
    if (this.list.length >= MAX_PROBLEMS) {
      this.more++;
      return;
    }
    const location = this.src.locate(path, { key: opts.atKey, offset: opts.offset });
    const where = path.length
      ? `${path
          .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
          .join("")
          .slice(1)}: `
      : "";
    this.list.push(
      new ChaosError("invalid", `${where.replace(/^\./, "")}${message}`, { location, hint: opts.hint }),
    );
  }

  /** Schema problems, then what the schema marks for `valueProblems` (durations, regexes). */
  schema(schema: JsonSchema, data: unknown, base: Path): void {
    for (const p of checkSchema(schema, data))
      this.add([...base, ...p.path], p.message, { hint: p.hint, atKey: p.atKey });
    for (const p of valueProblems(schema, data)) this.add([...base, ...p.path], p.message, { hint: p.hint });
  }

  /**
   * @throws ValidationErrors with every problem in file order, then `others` (found in other files), when
   *   there is any.
   */
  throwIfAny(others: ChaosError[] = []): void {
    if (this.list.length === 0 && others.length === 0) return;
    this.list.sort((a, b) => a.location!.line - b.location!.line || a.location!.col - b.location!.col);
    throw new ValidationErrors([...this.list, ...others], this.more);
  }
}

/**
 * Reads and validates an experiment file: YAML syntax, the envelope schema, every action's and probe's own
 * argument schema, tolerances, durations and references.
 * @throws ValidationErrors listing every problem with file:line:col; ChaosError("invalid") if unreadable.
 */
export async function loadExperiment(file: string, opts: LoadOptions): Promise<Experiment> {
  const text = await readInput(file, opts.maxBytes);
  return parseExperiment(file === "-" ? "<stdin>" : file, text, opts);
}

/** Like loadExperiment, from text already read. @throws ValidationErrors */
export function parseExperiment(file: string, text: string, opts: LoadOptions): Experiment {
  let src: SourceFile;
  try {
    src = new SourceFile(file, text);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new ValidationErrors([
      new ChaosError("invalid", "the document is nested too deeply", {
        location: { file, line: 1, col: 1 },
        hint: "flatten the data",
      }),
    ]);
  }
  const syntax = src.syntaxErrors();
  if (syntax.length) throw new ValidationErrors(syntax);
  const problems = new Problems(src);
  const raw = src.data;
  if (!isObj(raw)) {
    problems.add([], "an experiment must be a YAML mapping with version, title and method", {
      hint: "see experiments/ for examples",
    });
    throw new ValidationErrors(problems.list);
  }
  if (isCtkExperiment(raw)) return readCtkExperiment(file, src, raw, opts);
  if (opts.vars) raw.configuration = withVars(raw.configuration, opts.vars, problems);
  return readDocument(file, raw, problems, opts);
}

/**
 * A Chaos Toolkit experiment, translated into our document and read as one: problems of either step are
 * located in the Chaos Toolkit file and reported together.
 * @throws ValidationErrors
 */
function readCtkExperiment(file: string, src: SourceFile, raw: Obj, opts: LoadOptions): Experiment {
  const ctkProblems = new Problems(src);
  const { document, translation } = translateCtk(raw, ctkProblems, {
    vars: opts.vars,
    strategy: opts.strategy,
  });
  const problems = new Problems({
    data: document,
    locate: (path, o) => src.locate(translation.origin(path), { key: o?.key }),
  });
  let experiment: Experiment | undefined;
  try {
    experiment = readDocument(file, document, problems, opts);
  } catch (err) {
    if (!(err instanceof ValidationErrors)) throw err;
  }
  const all = [...ctkProblems.list, ...problems.list];
  if (all.length || !experiment) {
    all.sort((a, b) => a.location!.line - b.location!.line || a.location!.col - b.location!.col);
    throw new ValidationErrors(all, ctkProblems.more + problems.more);
  }
  return {
    ...experiment,
    source: {
      format: "chaostoolkit",
      document: maskCtkSecrets(raw),
      ignored: translation.ignored,
      notes: translation.notes,
    },
  };
}

/** Reads our own experiment document (already parsed). @throws ValidationErrors */
function readDocument(file: string, raw: Obj, problems: Problems, opts: LoadOptions): Experiment {
  const { data, bound, configuration } = interpolateDocument(raw, opts.env ?? process.env, problems);
  problems.schema(experimentSchema as JsonSchema, data, []);

  const reader = new Reader(opts.registry, problems, bound);
  const steady = isObj(data["steady-state"]) ? data["steady-state"] : undefined;
  const experiment: Experiment = {
    file,
    title: typeof data.title === "string" ? data.title : "",
    description: typeof data.description === "string" ? data.description : undefined,
    tags: Array.isArray(data.tags) ? data.tags.map(String) : [],
    configuration,
    secrets: (isObj(raw.secrets) ? raw.secrets : {}) as Record<string, SecretSource>,
    steadyState: steady
      ? {
          probes: reader.list(steady.probes, ["steady-state", "probes"], (p, path) =>
            reader.probe(p, path, "tolerance", true),
          ),
          during:
            steady.during === "none"
              ? "none"
              : isObj(steady.during)
                ? {
                    everyMs: reader.duration(
                      steady.during.every,
                      ["steady-state", "during", "every"],
                      1000,
                      "interval",
                    ),
                    failFast: steady.during["fail-fast"] === true,
                  }
                : undefined,
          ...(isObj(steady.before)
            ? {
                before: {
                  withinMs: reader.duration(steady.before.within, ["steady-state", "before", "within"], 0),
                  everyMs: reader.duration(
                    steady.before.every,
                    ["steady-state", "before", "every"],
                    1000,
                    "interval",
                  ),
                },
              }
            : {}),
          after: {
            withinMs: reader.duration(
              isObj(steady.after) ? steady.after.within : undefined,
              ["steady-state", "after", "within"],
              0,
            ),
            everyMs: reader.duration(
              isObj(steady.after) ? steady.after.every : undefined,
              ["steady-state", "after", "every"],
              1000,
              "interval",
            ),
          },
          ...(steady.before === "none" || steady.after === "none"
            ? { skip: { before: steady.before === "none", after: steady.after === "none" } }
            : {}),
        }
      : undefined,
    stopWhen: reader.list(data["stop-when"], ["stop-when"], (c, path) => reader.stopCondition(c, path)),
    method: reader.list(data.method, ["method"], (s, path) => reader.step(s, path)),
    rollbacks: reader.list(data.rollbacks, ["rollbacks"], (s, path) => reader.action(s, path)),
    ...(data["rollbacks-when"] === "deviated" || data["rollbacks-when"] === "not-failed"
      ? { rollbacksWhen: data["rollbacks-when"] }
      : {}),
    document: withMaskedSecrets(raw),
    ...observersOf(bound),
  };
  reader.agentConfigurations(isObj(data.configuration) ? data.configuration : {});
  problems.throwIfAny();
  return experiment;
}

/** The document for the journal: a secret written in it (`value`) is masked. */
function withMaskedSecrets(raw: Obj): Obj {
  // A webhook's signing secret and a Slack URL (its path is its credential) are secrets too.
  const out = Array.isArray(raw.notifications)
    ? {
        ...raw,
        notifications: raw.notifications.map((n) =>
          isObj(n)
            ? { ...n, ...("secret" in n ? { secret: "***" } : {}), ...("slack" in n ? { slack: "***" } : {}) }
            : n,
        ),
      }
    : raw;
  if (!isObj(out.secrets)) return out;
  const secrets = Object.fromEntries(
    Object.entries(out.secrets).map(([k, v]) => [k, isObj(v) && "value" in v ? { ...v, value: "***" } : v]),
  );
  return { ...out, secrets };
}

/** A Chaos Toolkit file for the journal: its inline secrets (`scope: {name: value}`) masked. */
function maskCtkSecrets(raw: Obj): Obj {
  if (!isObj(raw.secrets)) return raw;
  const mask = (v: unknown) => (typeof v === "string" ? "***" : v);
  const secrets = Object.fromEntries(
    Object.entries(raw.secrets).map(([scope, s]) => [
      scope,
      isObj(s) ? Object.fromEntries(Object.entries(s).map(([k, v]) => [k, mask(v)])) : s,
    ]),
  );
  return { ...raw, secrets };
}

/** Second-layer validation: resolves agents, actions and probes, and checks their own schemas. */
export class Reader {
  constructor(
    private readonly registry: Registry,
    private readonly problems: Problems,
    /** The experiment as interpolated, secrets as SecretTemplates: what the model hands to a run. */
    private readonly bound: unknown,
  ) {}

  /** The bound value at `path`, or `{}` when it is not a mapping (the schema reported that). */
  private boundAt(path: Path): Obj {
    let v = this.bound;
    for (const seg of path)
      v = isObj(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[seg] : undefined;
    return isObj(v) ? v : {};
  }

  list<T>(value: unknown, path: Path, read: (item: Obj, path: Path) => T | undefined): T[] {
    if (!Array.isArray(value)) return [];
    const out: T[] = [];
    value.forEach((item, i) => {
      if (!isObj(item)) return; // the envelope schema already reported it
      const r = read(item, [...path, i]);
      if (r !== undefined) out.push(r);
    });
    return out;
  }

  /** Reads a duration within the bounds of its kind; a problem is reported once, at its value. */
  duration(value: unknown, path: Path, fallback: number, kind: DurationKind = "length"): number {
    if (value === undefined) return fallback;
    try {
      return parseDuration(value, kind);
    } catch (err) {
      const e = err as ChaosError;
      this.problems.add(path, e.message, { hint: e.hint });
      return fallback;
    }
  }

  probe(
    p: Obj,
    path: Path,
    toleranceKey: string,
    requireTolerance: boolean,
    tolerance = p[toleranceKey],
    tolerancePath: Path = [...path, toleranceKey],
  ): ProbeSpec | undefined {
    const keys = Object.keys(p).filter((k) => !PROBE_FIELDS.includes(k));
    const fields = [...PROBE_FIELDS.filter((f) => f !== "tolerance"), toleranceKey];
    const known = [...fields, ...this.registry.probeKeys()];
    const providers = keys.filter((k) => this.isProbeKey(k));
    for (const k of keys.filter((x) => !this.isProbeKey(x))) {
      // A near miss of a field (`tolerence`) is an unknown key; anything else is taken for a provider.
      const field = closest(k, fields);
      this.problems.add([...path, k], field ? `unknown key "${k}"` : `unknown probe "${k}"`, {
        atKey: true,
        hint: didYouMean(k, known),
      });
    }
    if (keys.length === 0) {
      this.problems.add(path, "a probe needs exactly one provider key holding its arguments", {
        hint: `add one of: ${this.registry.probeKeys().join(", ")}`,
      });
    }
    for (const k of providers.slice(1)) {
      this.problems.add([...path, k], `a probe has one provider key, found "${providers[0]}" and "${k}"`, {
        atKey: true,
        hint: "split it into two probes",
      });
    }
    const key = providers[0];
    if (key === undefined) return undefined;
    const { agent, probe } = this.registry.probe(key);
    const args = isObj(p[key]) ? (p[key] as Obj) : {};
    this.problems.schema(probe.args, args, [...path, key]);
    for (const c of probe.check?.(args) ?? []) {
      this.problems.add([...path, key, ...c.path], c.message, { hint: c.hint, offset: c.offset });
    }
    const spec: ProbeSpec = {
      name: typeof p.name === "string" ? p.name : key,
      key,
      agent: agent.name,
      probe: probe.name,
      args: this.boundAt([...path, key]),
      timeoutMs:
        p.timeout === undefined ? undefined : this.duration(p.timeout, [...path, "timeout"], 0, "timeout"),
      ...(typeof p.weight === "number" ? { weight: p.weight } : {}),
      ...(typeof p.unit === "string" ? { unit: p.unit } : {}),
      path,
    };
    if (tolerance === undefined) {
      if (requireTolerance) {
        this.problems.add(path, `probe "${spec.name}" needs a ${toleranceKey}`, {
          hint: 'e.g. tolerance: "< 0.3" or tolerance: { status: 200 }',
        });
      }
      return spec;
    }
    if (agent.name === "prometheus" && isObj(tolerance) && tolerance.status !== undefined) {
      // A PromQL probe's answer has no HTTP status of the target: such a tolerance could never be judged.
      this.problems.add([...tolerancePath, "status"], "a PromQL probe has no HTTP status to judge", {
        hint: 'judge the query\'s value instead, e.g. { value: "< 0.3" }',
      });
      return spec;
    }
    try {
      spec.tolerance = parseTolerance(tolerance);
    } catch (err) {
      // Any failure to read a tolerance is the experiment's problem, reported where it is written.
      if (err instanceof ToleranceError)
        this.problems.add([...tolerancePath, ...err.path], err.message, { hint: err.hint });
      else this.problems.add(tolerancePath, `not a tolerance: ${(err as Error).message}`);
    }
    return spec;
  }

  private isProbeKey(key: string): boolean {
    return this.registry.probeKeys().includes(key);
  }

  stopCondition(c: Obj, path: Path): StopCondition | undefined {
    if (!isObj(c.probe)) return undefined;
    // A missing `when` is already reported by the envelope schema.
    const probe = this.probe({ name: c.name, ...c.probe }, [...path, "probe"], "when", false, c.when, [
      ...path,
      "when",
    ]);
    if (!probe) return undefined;
    return {
      name: String(c.name ?? probe.name),
      probe,
      everyMs: this.duration(c.every, [...path, "every"], 1000, "interval"),
      onError: c["on-error"] === "continue" ? "continue" : "stop",
      onEmpty: (c.empty ?? c["on-error"]) === "continue" ? "continue" : "stop",
      onNaN: (c.nan ?? c["on-error"]) === "continue" ? "continue" : "stop",
      path,
    };
  }

  step(s: Obj, path: Path): Step | undefined {
    if ("pause" in s) {
      return {
        kind: "pause",
        name: typeof s.name === "string" ? s.name : `pause ${s.pause}`,
        ms: this.duration(s.pause, [...path, "pause"], 0),
        path,
      };
    }
    if ("probe" in s) {
      if (!isObj(s.probe)) return undefined;
      const probe = this.probe(s.probe, [...path, "probe"], "tolerance", false);
      return probe
        ? { kind: "probe", name: probe.name, probe, background: s.background === true, path }
        : undefined;
    }
    return this.action(s, path);
  }

  action(s: Obj, path: Path): ActionStep | undefined {
    if (typeof s.action !== "string" || !/^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/.test(s.action))
      return undefined;
    let resolved: ReturnType<Registry["action"]>;
    try {
      resolved = this.registry.action(s.action);
    } catch (err) {
      this.problems.add([...path, "action"], (err as ChaosError).message, { hint: (err as ChaosError).hint });
      return undefined;
    }
    const { agent, action } = resolved;
    const target = isObj(s.target) ? s.target : {};
    const args = isObj(s.args) ? s.args : {};
    if (action.target) this.problems.schema(action.target, target, [...path, "target"]);
    else if (s.target !== undefined) {
      this.problems.add([...path, "target"], `${s.action} takes no target`, {
        atKey: true,
        hint: "remove target",
      });
    }
    this.problems.schema(action.args, args, [...path, "args"]);
    return {
      kind: "action",
      name: typeof s.name === "string" ? s.name : s.action,
      ref: s.action,
      agent: agent.name,
      action: action.name,
      target: this.boundAt([...path, "target"]),
      args: this.boundAt([...path, "args"]),
      durationMs: s.duration === undefined ? undefined : this.duration(s.duration, [...path, "duration"], 0),
      background: s.background === true,
      timeoutMs:
        s.timeout === undefined ? undefined : this.duration(s.timeout, [...path, "timeout"], 0, "timeout"),
      path,
    };
  }

  agentConfigurations(configuration: Obj): void {
    for (const agent of this.registry.agents()) {
      if (agent.configuration && configuration[agent.name] !== undefined) {
        this.problems.schema(agent.configuration, configuration[agent.name], ["configuration", agent.name]);
      }
    }
  }
}

/**
 * Reads a YAML file as text.
 * @throws ChaosError("invalid") when it cannot be read.
 */
export async function readSourceText(file: string, maxBytes?: number): Promise<string> {
  return readInput(file, maxBytes);
}

/**
 * Resolves `${env:…}` and `${configuration.…}` in a whole document (`${secrets.…}` stay for run time) and
 * reports every unresolved reference once.
 */
export function interpolateDocument(
  raw: Obj,
  env: NodeJS.ProcessEnv,
  problems: Problems,
): { data: Obj; bound: Obj; configuration: Obj } {
  const secretNames = new Set(isObj(raw.secrets) ? Object.keys(raw.secrets) : []);
  const interpolationProblems: { path: Path; message: string; hint: string }[] = [];
  // Interpolated once: `bound` holds SecretTemplates where secrets go, `data` the same with references as
  // text for validation.
  const configuration = isObj(raw.configuration)
    ? (interpolate(raw.configuration, { env, secretNames }, interpolationProblems, ["configuration"]) as Obj)
    : {};
  const { configuration: _asWritten, ...rest } = raw;
  const bound = interpolate(rest, { env, configuration, secretNames }, interpolationProblems) as Obj;
  if (isObj(raw.configuration)) bound.configuration = configuration;
  const data = withReferences(bound) as Obj;
  const seenRefs = new Set<string>();
  for (const p of interpolationProblems) {
    const k = `${p.path.join("/")}|${p.message}`;
    if (!seenRefs.has(k)) problems.add(p.path, p.message, { hint: p.hint });
    seenRefs.add(k);
  }
  return { data, bound, configuration };
}

/** `metrics:` and `notifications:` as the schema checked them, secrets as SecretTemplates. */
function observersOf(data: Obj): Pick<Experiment, "metrics" | "notifications"> {
  const out: Pick<Experiment, "metrics" | "notifications"> = {};
  if (isObj(data.metrics) && typeof data.metrics.pushgateway === "string")
    out.metrics = { pushgateway: data.metrics.pushgateway };
  if (Array.isArray(data.notifications)) out.notifications = notificationTargets(data.notifications);
  return out;
}

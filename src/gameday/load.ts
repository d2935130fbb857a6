import { dirname, resolve } from "node:path";
import type { JsonSchema } from "../contract/agent.js";
import { ChaosError, ValidationErrors } from "../experiments/errors.js";
import {
  interpolateDocument,
  isObj,
  type LoadOptions,
  loadExperiment,
  type Obj,
  Problems,
  Reader,
  readSourceText,
} from "../experiments/load.js";
import runbookSchema from "../experiments/schema/runbook.schema.json" with { type: "json" };
import { type Path, SourceFile } from "../experiments/source.js";
import {
  ABORT_IF_PREFIX,
  PRECONDITIONS_ID,
  type Prediction,
  type Runbook,
  type RunbookStep,
} from "./model.js";

const STEP_KINDS = ["experiment", "manual", "observe", "wait", "decide", "abort-if"] as const;

/**
 * Whether a YAML file is a runbook (top-level `steps`) rather than an experiment (`method`). A file that
 * cannot be read or parsed is not a runbook: the experiment loader reports its problems.
 */
export async function isRunbookFile(file: string, maxBytes?: number): Promise<boolean> {
  try {
    // Through SourceFile, so that alias expansion is bounded here as in the loaders.
    const doc = new SourceFile(file, await readSourceText(file, maxBytes)).data as unknown;
    return isObj(doc) && "steps" in doc && !("method" in doc);
  } catch {
    return false;
  }
}

/**
 * Reads and validates a runbook and every experiment it names: YAML syntax, the runbook schema, each probe's
 * provider, arguments and tolerance, durations, step ids, and each experiment file in full.
 * @throws ValidationErrors listing every problem at file:line:col (an experiment's own problems at its own
 *   file); ChaosError("invalid") when the runbook cannot be read.
 */
export async function loadRunbook(file: string, opts: LoadOptions): Promise<Runbook> {
  const src = new SourceFile(file, await readSourceText(file, opts.maxBytes));
  const syntax = src.syntaxErrors();
  if (syntax.length) throw new ValidationErrors(syntax);
  const problems = new Problems(src);
  const raw = src.data;
  if (!isObj(raw)) {
    problems.add([], "a runbook must be a YAML mapping with title and steps", {
      hint: "see examples/gameday/ for an example",
    });
    problems.throwIfAny();
  }
  const { data, bound, configuration } = interpolateDocument(raw as Obj, opts.env ?? process.env, problems);
  problems.schema(runbookSchema as JsonSchema, data, []);
  const reader = new Reader(opts.registry, problems, bound);
  const pre = isObj(data.preconditions) ? data.preconditions : {};
  const roles = isObj(data.roles) ? data.roles : {};
  const nested: ChaosError[] = [];
  const runbook: Runbook = {
    file,
    title: typeof data.title === "string" ? data.title : "",
    goal: typeof data.goal === "string" ? data.goal.trim() : undefined,
    description: typeof data.description === "string" ? data.description.trim() : undefined,
    roles: {
      facilitator: typeof roles.facilitator === "string" ? roles.facilitator : undefined,
      observers: Array.isArray(roles.observers) ? roles.observers.map(String) : [],
    },
    configuration,
    preconditions: {
      checklist: Array.isArray(pre.checklist) ? pre.checklist.map(String) : [],
      probes: reader.list(pre.probes, ["preconditions", "probes"], (p, path) =>
        reader.probe(p, path, "tolerance", true),
      ),
    },
    steps: await readSteps(data.steps, { file, opts, reader, problems, nested }),
  };
  reader.agentConfigurations(configuration);
  problems.throwIfAny(nested);
  return runbook;
}

interface StepContext {
  file: string;
  opts: LoadOptions;
  reader: Reader;
  problems: Problems;
  /** Problems of the experiments the runbook names, located in their own files. */
  nested: ChaosError[];
}

async function readSteps(value: unknown, c: StepContext): Promise<RunbookStep[]> {
  if (!Array.isArray(value)) return [];
  const steps: RunbookStep[] = [];
  const ids = new Set<string>([PRECONDITIONS_ID]);
  const abortIf: RunbookStep[] = [];
  for (const [i, item] of value.entries()) {
    if (!isObj(item)) continue; // the schema reported it
    const path: Path = ["steps", i];
    const id = typeof item.id === "string" ? item.id : `step-${i + 1}`;
    if (ids.has(id)) {
      c.problems.add(typeof item.id === "string" ? [...path, "id"] : path, `the id "${id}" is used twice`, {
        hint: id === PRECONDITIONS_ID ? `"${PRECONDITIONS_ID}" names the checklist` : "ids must be unique",
      });
    }
    ids.add(id);
    const step = await readStep(item, id, path, c, abortIf);
    if (step?.kind === "abort-if") abortIf.push(step);
    if (step) steps.push(step);
  }
  return steps;
}

async function readStep(
  s: Obj,
  id: string,
  path: Path,
  c: StepContext,
  abortIf: RunbookStep[],
): Promise<RunbookStep | undefined> {
  const kinds = STEP_KINDS.filter((k) => k in s);
  if (kinds.length !== 1) return undefined; // the schema reported it
  if (kinds[0] !== "experiment" && "expect" in s) {
    c.problems.add([...path, "expect"], "expect belongs to experiment steps", {
      atKey: true,
      hint: "remove it, or make this an experiment step",
    });
  }
  switch (kinds[0]) {
    case "manual":
      return { kind: "manual", id, path, text: String(s.manual) };
    case "observe":
      return { kind: "observe", id, path, text: String(s.observe) };
    case "decide":
      return { kind: "decide", id, path, text: String(s.decide) };
    case "wait":
      return { kind: "wait", id, path, ms: c.reader.duration(s.wait, [...path, "wait"], 0) };
    case "abort-if": {
      if (!isObj(s["abort-if"])) return undefined;
      const condition = c.reader.stopCondition(s["abort-if"], [...path, "abort-if"]);
      if (!condition) return undefined;
      return {
        kind: "abort-if",
        id,
        path,
        condition: { ...condition, name: ABORT_IF_PREFIX + condition.name },
      };
    }
    case "experiment":
      return readExperimentStep(s, id, path, c, abortIf);
  }
}

async function readExperimentStep(
  s: Obj,
  id: string,
  path: Path,
  c: StepContext,
  abortIf: RunbookStep[],
): Promise<RunbookStep | undefined> {
  if (s.expect === undefined) {
    c.problems.add(path, "an experiment step needs the verdict the team predicts", {
      hint: "add expect: held or expect: deviated",
    });
  }
  if (typeof s.experiment !== "string") return undefined;
  const resolved = resolve(dirname(c.file), s.experiment);
  try {
    const experiment = await loadExperiment(resolved, c.opts);
    return {
      kind: "experiment",
      id,
      path,
      file: s.experiment,
      resolved,
      expect: (s.expect === "deviated" ? "deviated" : "held") satisfies Prediction,
      experiment,
      abortIf: abortIf.flatMap((a) => (a.kind === "abort-if" ? [a.condition] : [])),
    };
  } catch (err) {
    if (err instanceof ValidationErrors) c.nested.push(...err.errors);
    else if (err instanceof ChaosError)
      c.problems.add([...path, "experiment"], err.message, { hint: "paths are relative to the runbook" });
    else throw err;
    return undefined;
  }
}

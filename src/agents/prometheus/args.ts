import { durationOf, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import { checkPromqlSyntax } from "./promql-syntax.js";
import { AGGREGATES, type Aggregate, SERIES_RULES, type SeriesRule } from "./reduce.js";

/** Prometheus refuses range queries of more than 11,000 points per series. */
export const MAX_POINTS = 11_000;
export const DEFAULT_STEP_MS = 1_000;

/** JSON Schema of the `query` probe's arguments. */
export const queryArgsSchema = {
  type: "object",
  properties: {
    query: { type: "string", minLength: 1, description: "a PromQL expression" },
    range: durationOf("interval", "evaluate over [now - range, now] (a range query); requires aggregate"),
    step: durationOf("interval", "resolution of a range query (default 1s)"),
    aggregate: { enum: [...AGGREGATES], description: "how the points of a range reduce to one value" },
    series: {
      enum: [...SERIES_RULES],
      description: "how several series are judged: each/any series, or reduced by sum/max/min/avg",
    },
    timeout: durationOf("timeout", "timeout of one attempt (default: configuration.prometheus.timeout)"),
  },
  required: ["query"],
  dependentRequired: { range: ["aggregate"] },
  additionalProperties: false,
} as const;

export interface QueryArgs {
  query: string;
  rangeMs?: number;
  stepMs: number;
  aggregate?: Aggregate;
  series?: SeriesRule;
  timeoutMs?: number;
}

export interface ArgProblem {
  path: string[];
  message: string;
  hint?: string;
  offset?: number;
}

function duration(args: Record<string, unknown>, key: string, problems: ArgProblem[]): number | undefined {
  if (args[key] === undefined) return undefined;
  try {
    const ms = parseDuration(args[key]);
    if (ms > 0) return ms;
    problems.push({ path: [key], message: `${key} must be longer than 0` });
  } catch (err) {
    const e = err as ChaosError;
    problems.push({ path: [key], message: e.message, hint: e.hint });
  }
  return undefined;
}

/** Checks the arguments offline (PromQL grammar, durations, combinations); returns every problem found. */
export function checkQueryArgs(args: Record<string, unknown>): ArgProblem[] {
  const problems: ArgProblem[] = [];
  if (typeof args.query !== "string") {
    problems.push({ path: ["query"], message: "query must be a PromQL string" });
  } else {
    const syntax = checkPromqlSyntax(args.query);
    if (syntax) problems.push({ path: ["query"], ...syntax });
  }
  const rangeMs = duration(args, "range", problems);
  const stepMs = duration(args, "step", problems);
  duration(args, "timeout", problems);
  if (args.aggregate !== undefined && !AGGREGATES.includes(args.aggregate as Aggregate)) {
    problems.push({ path: ["aggregate"], message: `aggregate must be one of ${AGGREGATES.join(", ")}` });
  }
  if (args.series !== undefined && !SERIES_RULES.includes(args.series as SeriesRule)) {
    problems.push({ path: ["series"], message: `series must be one of ${SERIES_RULES.join(", ")}` });
  }
  if (args.range !== undefined && args.aggregate === undefined) {
    problems.push({
      path: ["aggregate"],
      message: "a range query needs aggregate to reduce its points to one value",
      hint: "add aggregate: max | min | avg | last",
    });
  }
  if (args.range === undefined && args.aggregate !== undefined) {
    problems.push({
      path: ["aggregate"],
      message: "aggregate applies to a range query only",
      hint: "add range: 30s, or aggregate in PromQL with max_over_time(…[30s])",
    });
  }
  if (args.range === undefined && args.step !== undefined) {
    problems.push({ path: ["step"], message: "step applies to a range query only", hint: "add range: 30s" });
  }
  if (rangeMs !== undefined && stepMs !== undefined && stepMs > rangeMs) {
    problems.push({ path: ["step"], message: "step is longer than range" });
  }
  if (rangeMs !== undefined && rangeMs / (stepMs ?? DEFAULT_STEP_MS) > MAX_POINTS) {
    problems.push({
      path: ["step"],
      message: `range / step asks for more than ${MAX_POINTS} points per series, which Prometheus refuses`,
      hint: "use a larger step",
    });
  }
  return problems;
}

/**
 * Checks and types the arguments.
 * @throws ChaosError("invalid") with the first problem found.
 */
export function readQueryArgs(args: Record<string, unknown>): QueryArgs {
  const [problem] = checkQueryArgs(args);
  if (problem) {
    throw new ChaosError("invalid", `prometheus query ${problem.path.join(".")}: ${problem.message}`, {
      hint: problem.hint,
    });
  }
  return {
    query: args.query as string,
    rangeMs: args.range === undefined ? undefined : parseDuration(args.range),
    stepMs: args.step === undefined ? DEFAULT_STEP_MS : parseDuration(args.step),
    aggregate: args.aggregate as Aggregate | undefined,
    series: args.series as SeriesRule | undefined,
    timeoutMs: args.timeout === undefined ? undefined : parseDuration(args.timeout),
  };
}

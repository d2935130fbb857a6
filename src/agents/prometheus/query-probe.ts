import { agentError, ChaosError } from "../../experiments/errors.js";
import type { AgentContext, ProbeDefinition, ProbeResult } from "../agent.js";
import { checkQueryArgs, type QueryArgs, queryArgsSchema, readQueryArgs } from "./args.js";
import {
  PrometheusApiError,
  PrometheusClient,
  PrometheusUnreachableError,
  type QueryResult,
} from "./client.js";
import { resolveConfig } from "./config.js";
import { evaluate } from "./evaluate.js";

const UNREACHABLE_HINT = "start Prometheus or set PROMETHEUS_URL / configuration.prometheus.url";

/** One client per run, shared by every probe (keep-alive sockets), closed when the run ends. */
function clientFor(ctx: AgentContext): Promise<PrometheusClient> {
  return ctx.resources.use(
    "prometheus.client",
    async () => {
      const config = resolveConfig(ctx.configuration.prometheus);
      return new PrometheusClient(config);
    },
    async (client) => client.close(),
  );
}

/**
 * Maps a client failure to the error the run reports; the client already scrubbed credentials out.
 * A rejected query is the experiment's fault (invalid); anything else means the run could not judge (agent).
 */
export function toChaosError(err: unknown, url: string): ChaosError {
  if (err instanceof ChaosError) return err;
  if (err instanceof PrometheusApiError) {
    if (err.errorType === "bad_data") {
      return new ChaosError("invalid", `Prometheus rejected the query: ${err.message}`, {
        hint: "fix the PromQL in the probe's query",
        cause: err,
      });
    }
    const hint =
      err.status === 401 || err.status === 403
        ? "check configuration.prometheus.auth"
        : err.status === 404
          ? "check configuration.prometheus.url (does Prometheus run under a path prefix?)"
          : undefined;
    return new ChaosError("agent", `Prometheus at ${url} could not answer the query: ${err.message}`, {
      hint,
      cause: err,
    });
  }
  if (err instanceof PrometheusUnreachableError) {
    const what = err.status === undefined ? "unreachable" : "failing";
    return new ChaosError("agent", `Prometheus at ${url} ${what}: ${err.message}`, {
      hint: err.status === undefined ? UNREACHABLE_HINT : undefined,
      cause: err,
    });
  }
  return agentError(`Prometheus query against ${url} failed`, err);
}

async function send(client: PrometheusClient, args: QueryArgs, ctx: AgentContext, instant: boolean) {
  const started = Date.now();
  const opts = { signal: ctx.signal, timeoutMs: args.timeoutMs };
  let result: QueryResult;
  try {
    if (args.rangeMs === undefined || instant) {
      result = await client.query(args.query, opts);
    } else {
      const end = Date.now() / 1000;
      const range = { start: end - args.rangeMs / 1000, end, step: args.stepMs / 1000 };
      result = await client.queryRange(args.query, range, opts);
    }
  } catch (err) {
    throw toChaosError(err, client.displayUrl);
  }
  ctx.log.debug(
    {
      url: client.displayUrl,
      query: args.query,
      range: instant ? undefined : args.rangeMs,
      ms: Date.now() - started,
    },
    "prometheus query answered",
  );
  return result;
}

/** The `prometheus.query` probe: PromQL through the HTTP API, reduced to what a tolerance judges. */
export const queryProbe: ProbeDefinition = {
  name: "query",
  description:
    "Runs a PromQL query (instant, or over a range reduced by aggregate) and yields its value; several " +
    "series need a series rule (each, any, sum, max, min, avg). Empty results yield null, NaN stays NaN.",
  args: queryArgsSchema,

  async run(rawArgs, ctx): Promise<ProbeResult> {
    const args = readQueryArgs(rawArgs);
    const client = await clientFor(ctx);
    return evaluate(await send(client, args, ctx, false), args);
  },

  check(rawArgs) {
    return checkQueryArgs(rawArgs);
  },

  async preflight(rawArgs, ctx): Promise<void> {
    const args = readQueryArgs(rawArgs);
    const client = await clientFor(ctx);
    const result = await send(client, args, ctx, true);
    // Fail before any fault is injected when the answer already has a shape the probe cannot judge.
    if (result.resultType === "vector" && result.series.length > 1 && args.series === undefined) {
      evaluate(result, { ...args, rangeMs: undefined });
    }
  },
};

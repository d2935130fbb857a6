import { ChaosError } from "../../experiments/errors.js";
import type { Agent } from "../agent.js";
import { configurationSchema } from "./config.js";
import { queryProbe } from "./query-probe.js";

/**
 * Reads metrics from Prometheus; it injects nothing. Experiments use it as a probe:
 * `prometheus: { query: "…", range: 30s, aggregate: max }`.
 */
export const prometheusAgent: Agent = {
  name: "prometheus",
  description: "PromQL probes through the Prometheus HTTP API (instant and range queries).",
  configuration: configurationSchema,
  defaultProbe: "query",
  actions: {},
  probes: { query: queryProbe },
  /** @throws ChaosError("agent") always: this agent never leaves a fault to undo. */
  async revert(revert) {
    throw new ChaosError("agent", `the prometheus agent has no faults to revert (asked for ${revert.kind})`);
  },
};

export default prometheusAgent;
export type { QueryResult } from "./client.js";
export { PrometheusApiError, PrometheusClient, PrometheusUnreachableError } from "./client.js";
export type { PrometheusConfig } from "./config.js";
export { resolveConfig } from "./config.js";

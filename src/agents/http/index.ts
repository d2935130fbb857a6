import { ChaosError } from "../../experiments/errors.js";
import type { Agent } from "../agent.js";
import { requestProbe } from "./request.js";

/**
 * Probes HTTP endpoints. It injects nothing, so it has no actions and nothing to revert. An experiment
 * writes `http: { url: …, timeout: 2s }` and means the `request` probe.
 */
export const httpAgent: Agent = {
  name: "http",
  description: "HTTP(S) requests as probes: status, latency, or one value of a JSON body",
  defaultProbe: "request",
  actions: {},
  probes: { request: requestProbe },
  /** @throws ChaosError("agent") always: the http agent never leaves a fault behind. */
  async revert() {
    throw new ChaosError("agent", "http has no faults to revert", {
      hint: "the ledger entry names the wrong agent; revert it with the agent that applied it",
    });
  },
};

import type { Agent } from "../agent.js";
import {
  bandwidthAction,
  latencyAction,
  limitDataAction,
  resetPeerAction,
  slicerAction,
  slowCloseAction,
  timeoutAction,
} from "./actions.js";
import { configurationSchema } from "./config.js";
import { downAction } from "./down.js";
import {
  httpAbortAction,
  httpBodyAction,
  httpDelayAction,
  httpHeaderAction,
  httpStatusAction,
} from "./http-actions.js";
import { partitionAction } from "./partition.js";
import { proxyProbe, toxicsProbe } from "./probes.js";
import { revertToxiproxyFault } from "./revert.js";
import { session } from "./session.js";

/**
 * Network faults through Toxiproxy's HTTP API (toxiproxy-node-client), against a running Toxiproxy
 * (`configuration.toxiproxy.url`) or the embedded proxy started in-process for the run. Every fault is
 * named toxics (or a disabled proxy) that the revert removes exactly.
 */
export const toxiproxyAgent: Agent = {
  name: "toxiproxy",
  description:
    "network faults (latency, bandwidth, resets, timeouts, down, partition) through Toxiproxy; HTTP faults per request through chaoskit's proxy",
  configuration: configurationSchema,
  actions: {
    latency: latencyAction,
    bandwidth: bandwidthAction,
    timeout: timeoutAction,
    "reset-peer": resetPeerAction,
    "slow-close": slowCloseAction,
    slicer: slicerAction,
    "limit-data": limitDataAction,
    down: downAction,
    partition: partitionAction,
    "http-status": httpStatusAction,
    "http-delay": httpDelayAction,
    "http-abort": httpAbortAction,
    "http-header": httpHeaderAction,
    "http-body": httpBodyAction,
  },
  probes: { proxy: proxyProbe, toxics: toxicsProbe },
  // Reach the configured Toxiproxy (or start the embedded one with its proxies) before the steady state is
  // checked, so an app reached through those proxies answers from the first probe on.
  prepareRun: async (ctx) => void (await session(ctx)),
  revert: revertToxiproxyFault,
};

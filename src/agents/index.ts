import { dockerAgent } from "./docker/index.js";
import { httpAgent } from "./http/index.js";
import { kubernetesAgent } from "./kubernetes/index.js";
import { networkAgent } from "./network/index.js";
import { processAgent } from "./process/index.js";
import { prometheusAgent } from "./prometheus/index.js";
import { Registry } from "./registry.js";
import { stressAgent } from "./stress/index.js";
import { toxiproxyAgent } from "./toxiproxy/index.js";

/** The registry of every agent the toolkit ships. */
export function defaultRegistry(): Registry {
  return new Registry([
    httpAgent,
    processAgent,
    toxiproxyAgent,
    prometheusAgent,
    dockerAgent,
    kubernetesAgent,
    networkAgent,
    stressAgent,
  ]);
}

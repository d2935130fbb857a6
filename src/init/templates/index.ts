import type { Template } from "../template.js";
import { dockerPause } from "./docker-pause.js";
import { httpAvailability } from "./http-availability.js";
import { kubernetesPodKill } from "./kubernetes-pod-kill.js";
import { processKill } from "./process-kill.js";
import { prometheusSlo } from "./prometheus-slo.js";
import { toxiproxyLatency } from "./toxiproxy-latency.js";

/** Every template `chaos init` offers, in the order `--list` shows them. A new one is a file and a line here. */
export const TEMPLATES: readonly Template[] = [
  httpAvailability,
  prometheusSlo,
  toxiproxyLatency,
  processKill,
  dockerPause,
  kubernetesPodKill,
];

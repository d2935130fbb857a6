import type { BundledExperiment } from "../../demo/catalog.js";

/** The bundled experiments that use the docker agent: they run against the app in containers. */
export const DOCKER_EXPERIMENTS: readonly BundledExperiment[] = [
  {
    file: "docker-gateway-paused.yaml",
    practice: "breaker",
    decidingProbe: "checkout error ratio under 5%",
  },
  {
    file: "docker-payments-killed.yaml",
    practice: "retries",
    decidingProbe: "checkout error ratio under 10%",
  },
];

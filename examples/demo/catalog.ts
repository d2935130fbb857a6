import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Practice } from "../target-app/lib/practices.js";

/** One bundled experiment, with the practice of the sample app it verifies. */
export interface BundledExperiment {
  /** File name under experiments/. */
  file: string;
  /** Switching this practice off must turn the verdict from held into deviated. */
  practice: Practice;
  /** The steady-state probe that deviates when the practice is off. */
  decidingProbe: string;
}

/** The headline experiments, in the order the demo and the integration test run them. */
export const BUNDLED_EXPERIMENTS: readonly BundledExperiment[] = [
  { file: "payments-gateway-latency.yaml", practice: "timeouts", decidingProbe: "checkout p99 under 1 s" },
  {
    file: "payments-gateway-down.yaml",
    practice: "breaker",
    decidingProbe: "checkout error ratio under 5%",
  },
  {
    file: "payments-gateway-lost-responses.yaml",
    practice: "idempotency",
    decidingProbe: "no duplicate charge",
  },
  { file: "payments-killed-repeatedly.yaml", practice: "retries", decidingProbe: "no failed checkout" },
  { file: "payments-gateway-bandwidth.yaml", practice: "timeouts", decidingProbe: "checkout p99 under 1 s" },
];

/**
 * The HTTP experiments (faults per request through the proxy's HTTP toxics). They are checked both ways
 * once per CI run, after the headline ones; the demo shows the headline ones only.
 */
export const HTTP_EXPERIMENTS: readonly BundledExperiment[] = [
  { file: "http-payments-503.yaml", practice: "retries", decidingProbe: "no failed checkout" },
  { file: "http-charges-slow.yaml", practice: "timeouts", decidingProbe: "checkout p99 under 1 s" },
];

/**
 * The experiments that need payments under a CPU limit of its own (the sample app started with
 * `--payments-cpu`, as root): checked both ways against such an app, not in the pipelines' runs of
 * `experiments/payments-*.yaml`.
 */
export const CGROUP_EXPERIMENTS: readonly BundledExperiment[] = [
  { file: "stress-payments-cpu.yaml", practice: "timeouts", decidingProbe: "under 120 checkouts waiting" },
];

/**
 * The experiments that fault payments' own network with the network agent,
 * which need payments in a network namespace of its own with its database stand-in (the sample app started
 * with `--payments-netns`, as root). Those that switch the same practice off share one fragile app.
 */
export const NETWORK_EXPERIMENTS: readonly BundledExperiment[] = [
  {
    file: "network-payments-db-partition.yaml",
    practice: "timeouts",
    decidingProbe: "under 40 checkouts waiting",
  },
  {
    file: "network-payments-gateway-latency.yaml",
    practice: "timeouts",
    decidingProbe: "checkout p99 under 1 s",
  },
];

/** The CPU limit payments runs under for CGROUP_EXPERIMENTS, in cores. */
export const PAYMENTS_CPU_LIMIT = 0.2;

/**
 * The repository root (the folder holding experiments/), from the source tree or from dist/.
 * @throws Error when no parent folder holds experiments/ and package.json.
 */
export function repositoryRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "experiments")) && existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no experiments/ folder above ${from}`);
  }
}

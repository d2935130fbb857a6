import { expect } from "vitest";
import { BUNDLED_EXPERIMENTS, HTTP_EXPERIMENTS } from "../../examples/demo/catalog.js";
import { liveFaults } from "../../examples/demo/environment.js";
import { describeWithPrometheus } from "../support/prometheus.js";
import { runBothWays } from "../support/sample-app-verdicts.js";

/**
 * Each bundled experiment, through the built CLI, against the real sample app, a real Prometheus and the
 * embedded proxy: it must hold against the resilient app and deviate once the practice it verifies is off.
 * In CI the whole pair runs twice in a row, so a flaky verdict shows; the HTTP experiments run in the
 * first round only.
 *
 * One app runs at a time (two at once on a small machine distort the latencies). The resilient app is
 * shared by the five runs of a round; each fragile run gets a fresh app. Every app listens on the same
 * ports, so one Prometheus scrapes them all: a fresh Prometheus takes ~6 s to scrape for the first time.
 * Before each run the test waits until the experiment's hypothesis holds twice in a row, so the window
 * of an earlier deviation cannot leak into the next verdict.
 */

describeWithPrometheus("the bundled experiments against the sample app", () => {
  runBothWays({
    name: "experiments",
    experiments: BUNDLED_EXPERIMENTS,
    rounds: process.env.CI ? 2 : 1,
    once: HTTP_EXPERIMENTS,
    runTimeoutMs: 90_000,
    async leftBehind(target) {
      expect(await liveFaults(target.stack.toxiproxyUrl), "faults left on the proxy").toEqual([]);
    },
  });
});

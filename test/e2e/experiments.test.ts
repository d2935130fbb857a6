import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { BUNDLED_EXPERIMENTS, HTTP_EXPERIMENTS } from "../../examples/demo/catalog.js";
import {
  liveFaults,
  startTargetEnvironment,
  type TargetEnvironment,
} from "../../examples/demo/environment.js";
import { freeBasePort, metricsTargetsAt } from "../../examples/demo/ports.js";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import { ensureCliBuilt } from "../support/cli.js";
import { describeWithPrometheus, startTestPrometheus } from "../support/prometheus.js";
import { describeVerdicts, runExperiment } from "../support/verdicts.js";

/**
 * Each bundled experiment, through the built CLI, against the real sample app, a real Prometheus and the
 * embedded proxy: it must hold against the resilient app and deviate once the practice it verifies is off.
 * In CI the whole pair runs three times in a row, so a flaky verdict shows; the HTTP experiments run in the
 * first round only.
 *
 * One app runs at a time (two at once on a small machine distort the latencies). The resilient app is
 * shared by the five runs of a round; each fragile run gets a fresh app. Every app listens on the same
 * ports, so one Prometheus scrapes them all: a fresh Prometheus takes ~6 s to scrape for the first time.
 * Before each run the test waits until the experiment's hypothesis holds twice in a row, so the window
 * of an earlier deviation cannot leak into the next verdict.
 */

const RUN_TIMEOUT_MS = 90_000;

describeWithPrometheus("the bundled experiments against the sample app", () => {
  let work: string;
  let basePort: number;
  let prometheus: RunningPrometheus | undefined;
  const running = new Set<TargetEnvironment>();

  beforeAll(async () => {
    await ensureCliBuilt();
    work = mkdtempSync(join(tmpdir(), "chaos-e2e-experiments-"));
    basePort = await freeBasePort();
    prometheus = await startTestPrometheus(metricsTargetsAt(basePort));
  }, 180_000);

  afterAll(async () => {
    for (const target of running) await target.stop();
    await prometheus?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describeVerdicts<TargetEnvironment>({
    experiments: BUNDLED_EXPERIMENTS,
    rounds: process.env.CI ? 3 : 1,
    once: HTTP_EXPERIMENTS,
    runTimeoutMs: RUN_TIMEOUT_MS,
    async start(fragile) {
      const target = await startTargetEnvironment({ fragile, basePort, prometheusUrl: prometheus!.url });
      running.add(target);
      expect(target.stack.metricsTargets).toEqual(metricsTargetsAt(basePort));
      return target;
    },
    async stop(target) {
      if (!target) return;
      await target.stop();
      running.delete(target);
    },
    async run(target, experiment, label) {
      const verdict = await runExperiment(experiment, {
        prometheusUrl: target.prometheusUrl,
        env: target.env,
        dir: join(work, label),
        ledger: join(work, "ledger"),
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expect(await liveFaults(target.stack.toxiproxyUrl), "faults left on the proxy").toEqual([]);
      return verdict;
    },
  });
});

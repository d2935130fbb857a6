import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import type { BundledExperiment } from "../../examples/demo/catalog.js";
import {
  startTargetEnvironment,
  type TargetEnvironment,
  type TargetEnvironmentOptions,
} from "../../examples/demo/environment.js";
import { freeBasePort, metricsTargetsAt } from "../../examples/demo/ports.js";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import { ensureCliBuilt } from "./cli.js";
import { startTestPrometheus } from "./prometheus.js";
import { describeVerdicts, runExperiment, type Verdict, type VerdictSuite } from "./verdicts.js";

export interface BothWays {
  experiments: readonly BundledExperiment[];
  rounds: number;
  once?: readonly BundledExperiment[];
  runTimeoutMs: number;
  /** The temporary folder's prefix (journals, ledger). */
  name: string;
  /** How the sample app starts, besides `fragile` and its ports (a CPU limit, a namespace for payments). */
  app?: Omit<TargetEnvironmentOptions, "fragile" | "basePort" | "prometheusUrl">;
  /**
   * One Prometheus for the whole suite, scraping the fixed ports every app gets (default); false = each app
   * starts its own (payments' address then depends on the app).
   */
  sharedPrometheus?: boolean;
  /** See VerdictSuite.fragileAppPerPractice. */
  fragileAppPerPractice?: boolean;
  /** Checks after each run that it left nothing behind (the ledger is checked already). */
  leftBehind?(target: TargetEnvironment): Promise<void> | void;
}

/**
 * The bundled experiments of a suite, through the built CLI, against the real sample app (local processes)
 * and a real Prometheus: each must hold against the resilient app and deviate once its practice is off
 * (describeVerdicts). Call it inside a describe block.
 */
export function runBothWays(opts: BothWays): void {
  let work: string;
  let basePort: number;
  let prometheus: RunningPrometheus | undefined;
  const running = new Set<TargetEnvironment>();
  const shared = opts.sharedPrometheus ?? true;

  beforeAll(async () => {
    await ensureCliBuilt();
    work = mkdtempSync(join(tmpdir(), `chaos-e2e-${opts.name}-`));
    basePort = await freeBasePort();
    if (shared) prometheus = await startTestPrometheus(metricsTargetsAt(basePort));
  }, 180_000);

  afterAll(async () => {
    for (const target of running) await target.stop();
    await prometheus?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const suite: VerdictSuite<TargetEnvironment> = {
    experiments: opts.experiments,
    rounds: opts.rounds,
    ...(opts.once ? { once: opts.once } : {}),
    ...(opts.fragileAppPerPractice ? { fragileAppPerPractice: true } : {}),
    runTimeoutMs: opts.runTimeoutMs,
    async start(fragile) {
      const target = await startTargetEnvironment({
        ...opts.app,
        fragile,
        basePort,
        ...(prometheus ? { prometheusUrl: prometheus.url } : {}),
      });
      running.add(target);
      if (shared) expect(target.stack.metricsTargets).toEqual(metricsTargetsAt(basePort));
      return target;
    },
    async stop(target) {
      if (!target) return;
      await target.stop();
      running.delete(target);
    },
    async run(target, experiment, label): Promise<Verdict> {
      const verdict = await runExperiment(experiment, {
        prometheusUrl: target.prometheusUrl,
        env: target.env,
        dir: join(work, label),
        ledger: join(work, "ledger"),
        timeoutMs: opts.runTimeoutMs,
      });
      await opts.leftBehind?.(target);
      return verdict;
    },
  };
  describeVerdicts(suite);
}

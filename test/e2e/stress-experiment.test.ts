import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { CGROUP_EXPERIMENTS, PAYMENTS_CPU_LIMIT } from "../../examples/demo/catalog.js";
import { startTargetEnvironment, type TargetEnvironment } from "../../examples/demo/environment.js";
import { freeBasePort, metricsTargetsAt } from "../../examples/demo/ports.js";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import { describeWithCgroups } from "../support/cgroup.js";
import { ensureCliBuilt } from "../support/cli.js";
import { describeWithPrometheus, startTestPrometheus } from "../support/prometheus.js";
import { describeVerdicts, runExperiment } from "../support/verdicts.js";

/**
 * The bundled experiments that need payments under a CPU limit of its own (a real v1 or v2 cgroup the sample
 * app makes, as root), through the built CLI, against the real sample app and a real Prometheus: each holds
 * against the resilient app and deviates once its practice is off. The stressor is bounded by payments'
 * quota (a fifth of a core), so it costs the machine little. Afterwards no stressor may be left.
 */

const RUN_TIMEOUT_MS = 120_000;

/** Stressors (`chaos stress cpu …`) that joined this test's payments cgroup and still run. */
function stressorsLeft(): number[] {
  const mark = `chaoskit-payments-${process.pid}`;
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
        return cmd.includes(" stress cpu ") && cmd.includes(mark);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describeWithCgroups("the cgroup experiments against the sample app", () => {
  describeWithPrometheus("with payments under a CPU limit", () => {
    let work: string;
    let basePort: number;
    let prometheus: RunningPrometheus | undefined;
    const running = new Set<TargetEnvironment>();

    beforeAll(async () => {
      await ensureCliBuilt();
      work = mkdtempSync(join(tmpdir(), "chaos-e2e-stress-"));
      basePort = await freeBasePort();
      prometheus = await startTestPrometheus(metricsTargetsAt(basePort));
    }, 180_000);

    afterAll(async () => {
      for (const target of running) await target.stop();
      await prometheus?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    describeVerdicts<TargetEnvironment>({
      experiments: CGROUP_EXPERIMENTS,
      rounds: process.env.CI ? 2 : 1,
      runTimeoutMs: RUN_TIMEOUT_MS,
      async start(fragile) {
        const target = await startTargetEnvironment({
          fragile,
          basePort,
          prometheusUrl: prometheus!.url,
          paymentsCpu: PAYMENTS_CPU_LIMIT,
        });
        running.add(target);
        return target;
      },
      async stop(target) {
        if (!target) return;
        await target.stop();
        running.delete(target);
      },
      async run(target, experiment, label) {
        const dir = join(work, label);
        const verdict = await runExperiment(experiment, {
          prometheusUrl: target.prometheusUrl,
          env: target.env,
          dir,
          ledger: join(work, "ledger"),
          timeoutMs: RUN_TIMEOUT_MS,
        });
        expect(stressorsLeft(), "stressors left running").toEqual([]);
        return verdict;
      },
    });
  });
});

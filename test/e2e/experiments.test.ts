import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLED_EXPERIMENTS, type BundledExperiment } from "../../examples/demo/catalog.js";
import {
  liveFaults,
  startTargetEnvironment,
  type TargetEnvironment,
} from "../../examples/demo/environment.js";
import { freeBasePort, metricsTargetsAt } from "../../examples/demo/ports.js";
import { waitForSteadyState } from "../../examples/demo/steady.js";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import { ensureCliBuilt, ROOT, runCli } from "../support/cli.js";
import { describeWithPrometheus, startTestPrometheus } from "../support/prometheus.js";

/**
 * Each bundled experiment, through the built CLI, against the real sample app, a real Prometheus and the
 * embedded proxy: it must hold against the resilient app and deviate once the practice it verifies is off.
 * In CI the whole pair runs three times in a row, so a flaky verdict shows.
 *
 * One app runs at a time (two at once on a small machine distort the latencies). The resilient app is
 * shared by the five runs of a round; each fragile run gets a fresh app. Every app listens on the same
 * ports, so one Prometheus scrapes them all: a fresh Prometheus takes ~6 s to scrape for the first time.
 * Before each run the test waits until the experiment's hypothesis holds twice in a row, so the window
 * of an earlier deviation cannot leak into the next verdict.
 */

const ROUNDS = process.env.CI ? 3 : 1;
const RUN_TIMEOUT_MS = 90_000;

interface Journal {
  status: string;
  exitCode: number;
  reasons: string[];
}

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

  async function start(fragile: string[]): Promise<TargetEnvironment> {
    const target = await startTargetEnvironment({ fragile, basePort, prometheusUrl: prometheus!.url });
    running.add(target);
    expect(target.stack.metricsTargets).toEqual(metricsTargetsAt(basePort));
    return target;
  }

  async function stop(target: TargetEnvironment | undefined): Promise<void> {
    if (!target) return;
    await target.stop();
    running.delete(target);
  }

  /** Runs one experiment once its hypothesis holds; checks that nothing stayed injected afterwards. */
  async function run(target: TargetEnvironment, experiment: BundledExperiment, label: string) {
    const file = join(ROOT, "experiments", experiment.file);
    await waitForSteadyState(file, { prometheusUrl: target.prometheusUrl, timeoutMs: 60_000 });
    const dir = join(work, label);
    const ledger = join(work, "ledger");
    const result = await runCli(
      ["run", file, "--journal", join(dir, "journal.json"), "--ledger", ledger, "--log-level", "warn"],
      { env: target.env, timeoutMs: RUN_TIMEOUT_MS },
    );
    const output = `${result.stdout}\n${result.stderr}`;
    expect(existsSync(join(dir, "journal.json")), output).toBe(true);
    const journal = JSON.parse(readFileSync(join(dir, "journal.json"), "utf8")) as Journal;
    expect(await liveFaults(target.stack.toxiproxyUrl), "faults left on the proxy").toEqual([]);
    const pending = existsSync(ledger) ? readdirSync(ledger).filter((f) => f.endsWith(".json")) : [];
    expect(pending, "faults left in the ledger").toEqual([]);
    return { code: result.code, journal, output };
  }

  for (let round = 1; round <= ROUNDS; round++) {
    describe(`round ${round} of ${ROUNDS}`, () => {
      describe("with every practice on", () => {
        let target: TargetEnvironment | undefined;
        beforeAll(async () => {
          target = await start([]);
        });
        afterAll(async () => stop(target));

        for (const experiment of BUNDLED_EXPERIMENTS) {
          it(
            `${experiment.file} holds against the resilient app`,
            async () => {
              const { code, journal, output } = await run(
                target!,
                experiment,
                `${round}-resilient-${experiment.file}`,
              );
              expect(journal.status, output).toBe("held");
              expect(code, output).toBe(0);
            },
            RUN_TIMEOUT_MS + 90_000,
          );
        }
      });

      describe("with one practice off", () => {
        for (const experiment of BUNDLED_EXPERIMENTS) {
          it(
            `${experiment.file} deviates with ${experiment.practice} switched off`,
            async () => {
              const target = await start([experiment.practice]);
              try {
                const { code, journal, output } = await run(
                  target,
                  experiment,
                  `${round}-fragile-${experiment.file}`,
                );
                expect(journal.status, output).toBe("deviated");
                expect(code, output).toBe(1);
                expect(
                  journal.reasons.some((r) => r.includes(experiment.decidingProbe)),
                  journal.reasons.join("\n"),
                ).toBe(true);
              } finally {
                await stop(target);
              }
            },
            RUN_TIMEOUT_MS + 90_000,
          );
        }
      });
    });
  }
});

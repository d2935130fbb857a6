import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BundledExperiment } from "../../examples/demo/catalog.js";
import { waitForSteadyState } from "../../examples/demo/steady.js";
import { ROOT, runCli } from "./cli.js";

/**
 * The shape every "bundled experiments against the sample app" suite shares, whatever runs the app (local
 * processes, containers): each experiment must hold against the resilient app and deviate, for the reason
 * its catalog entry names, once the practice it verifies is switched off. The resilient app is shared by
 * the runs of a round; each fragile run gets a fresh app. In CI the rounds repeat, so a flaky verdict shows.
 */

export interface Verdict {
  code: number | null;
  journal: { status: string; exitCode: number; reasons: string[] };
  output: string;
}

export interface VerdictSuite<App> {
  experiments: readonly BundledExperiment[];
  rounds: number;
  /** Experiments checked in the first round only (newer ones, kept out of the repeated rounds for time). */
  once?: readonly BundledExperiment[];
  /**
   * One fragile app per practice, shared by the experiments that switch that practice off, in catalog
   * order (each must leave the app to recover within its own `before` wait); default a fresh app per run.
   */
  fragileAppPerPractice?: boolean;
  /** How long one `chaos run` may take. */
  runTimeoutMs: number;
  start(fragile: string[]): Promise<App>;
  stop(app: App | undefined): Promise<void>;
  /** Runs one experiment against the app (see `runExperiment`) and checks that it left nothing behind. */
  run(app: App, experiment: BundledExperiment, label: string): Promise<Verdict>;
}

const LOCK = join(tmpdir(), "chaoskit-sample-app-verdicts.lock");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Waits until no other verdict suite runs (a lock folder naming its owner's pid; a dead owner's lock is
 * taken over): two sample apps under load at once on a small machine distort the latencies the verdicts
 * depend on. @returns the release.
 */
async function exclusive(timeoutMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK);
      await writeFile(join(LOCK, "pid"), String(process.pid));
      return () => rm(LOCK, { recursive: true, force: true });
    } catch {
      const owner = Number(await readFile(join(LOCK, "pid"), "utf8").catch(() => ""));
      if (owner > 0 && !alive(owner)) await rm(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another sample-app suite held ${LOCK} for ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const WAIT_FOR_OTHER_SUITE_MS = 30 * 60_000;

/** Declares the held/deviated tests of a suite, round by round, never while another such suite runs. */
export function describeVerdicts<App>(suite: VerdictSuite<App>): void {
  const timeout = suite.runTimeoutMs + 120_000;
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    release = await exclusive(WAIT_FOR_OTHER_SUITE_MS);
  }, WAIT_FOR_OTHER_SUITE_MS + 10_000);
  afterAll(async () => release?.());
  for (let round = 1; round <= suite.rounds; round++) {
    const experiments = round === 1 ? [...suite.experiments, ...(suite.once ?? [])] : suite.experiments;
    describe(`round ${round} of ${suite.rounds}`, () => {
      describe("with every practice on", () => {
        let app: App | undefined;
        beforeAll(async () => {
          app = await suite.start([]);
        }, 120_000);
        afterAll(async () => suite.stop(app));

        for (const experiment of experiments) {
          it(
            `${experiment.file} holds against the resilient app`,
            async () => {
              const { code, journal, output } = await suite.run(
                app!,
                experiment,
                `${round}-resilient-${experiment.file}`,
              );
              expect(journal.status, output).toBe("held");
              expect(code, output).toBe(0);
            },
            timeout,
          );
        }
      });

      describe("with one practice off", () => {
        const deviates = (
          experiment: BundledExperiment,
          app: () => Promise<App>,
          done: (app: App) => Promise<void>,
        ) =>
          it(
            `${experiment.file} deviates with ${experiment.practice} switched off`,
            async () => {
              const target = await app();
              try {
                const { code, journal, output } = await suite.run(
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
                await done(target);
              }
            },
            timeout,
          );
        if (!suite.fragileAppPerPractice) {
          for (const experiment of experiments) {
            deviates(
              experiment,
              () => suite.start([experiment.practice]),
              (app) => suite.stop(app),
            );
          }
          return;
        }
        for (const practice of new Set(experiments.map((e) => e.practice))) {
          describe(`${practice} off`, () => {
            let shared: Promise<App> | undefined;
            afterAll(async () => suite.stop(await shared?.catch(() => undefined)));
            for (const experiment of experiments.filter((e) => e.practice === practice)) {
              deviates(
                experiment,
                () => (shared ??= suite.start([practice])),
                async () => {},
              );
            }
          });
        }
      });
    });
  }
}

/**
 * Runs one bundled experiment through the built CLI once its hypothesis holds (so the window of an earlier
 * deviation cannot leak into this verdict), into `dir`, with `ledger` as its ledger; checks that a journal
 * was written and that the ledger holds no fault afterwards.
 */
export async function runExperiment(
  experiment: BundledExperiment,
  opts: { prometheusUrl: string; env: NodeJS.ProcessEnv; dir: string; ledger: string; timeoutMs: number },
): Promise<Verdict> {
  const file = join(ROOT, "experiments", experiment.file);
  // Each bundled experiment waits for its own steady state (`before: { within: 30s }`), which is what
  // makes a busy machine or the tail of the previous run in a rate window safe. Waiting here as well for
  // two holding polls in a row only makes a window that passes once and then fails less likely, so a
  // system still settling after it is left to the run's own bounded wait and its verdict.
  await waitForSteadyState(file, { prometheusUrl: opts.prometheusUrl, timeoutMs: 60_000 }).catch(() => {});
  const journalPath = join(opts.dir, "journal.json");
  const result = await runCli(
    ["run", file, "--journal", journalPath, "--ledger", opts.ledger, "--log-level", "warn"],
    { env: opts.env, timeoutMs: opts.timeoutMs },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  expect(existsSync(journalPath), output).toBe(true);
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as Verdict["journal"];
  const pending = existsSync(opts.ledger) ? readdirSync(opts.ledger).filter((f) => f.endsWith(".json")) : [];
  expect(pending, "faults left in the ledger").toEqual([]);
  return { code: result.code, journal, output };
}

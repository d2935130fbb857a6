import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { ChaosError } from "../../src/experiments/errors.js";
import { ensurePrometheus, startPrometheus } from "../target-app/prometheus-server.js";
import { BUNDLED_EXPERIMENTS, type BundledExperiment, repositoryRoot } from "./catalog.js";
import { liveFaults, startTargetEnvironment, type TargetEnvironment } from "./environment.js";
import { freeBasePort, metricsTargetsAt } from "./ports.js";
import { type CliRun, readVerdict, startRun } from "./run-cli.js";
import { waitForSteady } from "./steady-wait.js";
import { allAsExpected, type RunSummary, summaryMarkdown, summaryTable } from "./summary.js";

/**
 * The main job (`npm run demo`):
 *
 *   Prometheus (started, or $PROMETHEUS_URL) ─▶ resilient sample app under load ─▶ every bundled
 *   experiment through the built CLI (must hold) ─▶ one experiment again against the app with its
 *   practice off (must deviate) ─▶ summary table + .chaos/demo/summary.md
 *
 * Everything it started is stopped on every way out, Ctrl-C included. Exit 0 only when every verdict was
 * the expected one; 1 otherwise; 130 when interrupted.
 */

const ROOT = repositoryRoot();
const OUT = join(ROOT, ".chaos", "demo");
/** Shown against the fragile app: without the breaker every checkout fails, the clearest deviation. */
const SHOWCASE = "payments-gateway-down.yaml";
const DEFAULT_EXTERNAL_BASE_PORT = 17000;

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const say = (line = "") => process.stdout.write(`${line}\n`);
const shown = (path: string) => relative(process.cwd(), path) || ".";

class Interrupted extends Error {}

const stopping = new AbortController();
let currentRun: CliRun | undefined;
let signals = 0;

function onSignal(sig: NodeJS.Signals): void {
  signals++;
  if (signals === 1) {
    say(`\n${bold(`${sig}: stopping`)} — the running experiment reverts its faults, then the demo stops`);
    say("everything it started (a third signal forces the exit)");
    stopping.abort(new Interrupted(`interrupted by ${sig}`));
  }
  // The run sits in its own process group: the terminal's Ctrl-C reaches it only through us.
  currentRun?.signal("SIGINT");
  // Exit hooks of the stack, Prometheus and the run still kill what is left.
  if (signals >= 3) process.exit(130);
}

interface Group {
  fragile: string[];
  experiments: readonly BundledExperiment[];
}

interface Monitoring {
  url: string;
  basePort: number;
}

/**
 * The Prometheus the experiments query: $PROMETHEUS_URL (the sample app then listens on fixed ports,
 * $DEMO_BASE_PORT or 17000, and the scrape config it needs is printed), else one started here.
 * @throws ChaosError("agent") when Prometheus is missing and cannot be installed, or does not answer.
 */
async function monitoring(cleanups: Array<() => Promise<void>>): Promise<Monitoring> {
  const external = process.env.PROMETHEUS_URL;
  if (external) {
    const basePort = Number(process.env.DEMO_BASE_PORT ?? DEFAULT_EXTERNAL_BASE_PORT);
    const config = stringify({
      scrape_configs: [
        {
          job_name: "chaoskit-target-app",
          scrape_interval: "1s",
          scrape_timeout: "900ms",
          static_configs: [{ targets: metricsTargetsAt(basePort) }],
        },
      ],
    });
    say(`Using the Prometheus at ${external} (PROMETHEUS_URL). It must scrape the sample app every second:`);
    say(config.replace(/^/gm, "    ").trimEnd());
    const ready = await fetch(`${external}/-/ready`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) throw new ChaosError("agent", `the Prometheus at ${external} is not ready`);
    return { url: external, basePort };
  }
  const binary = await ensurePrometheus({
    install: process.getuid?.() === 0,
    log: (line) => say(`  ${line}`),
  });
  const basePort = await freeBasePort();
  const prometheus = await startPrometheus({
    binary,
    scrapeTargets: metricsTargetsAt(basePort),
    scrapeInterval: "1s",
  });
  cleanups.push(() => prometheus.stop());
  say(`Prometheus ${prometheus.url} (${binary}), scraping the sample app on ports ${basePort}+ every second`);
  return { url: prometheus.url, basePort };
}

async function runOne(
  index: number,
  total: number,
  experiment: BundledExperiment,
  target: TargetEnvironment,
  variant: { label: string; slug: string },
  expected: "held" | "deviated",
): Promise<RunSummary> {
  const file = join(ROOT, "experiments", experiment.file);
  const dir = join(OUT, `${index}-${experiment.file.replace(/\.yaml$/, "")}-${variant.slug}`);
  const journal = join(dir, "journal.json");
  say();
  say(bold(`━━ [${index}/${total}] ${shown(file)} against the ${variant.label} app (expected: ${expected})`));
  await waitForSteady(file, target.prometheusUrl, stopping.signal, say);
  const run = startRun(file, { journal, ledger: join(OUT, "ledger"), env: target.env });
  currentRun = run;
  const code = await run.exited;
  currentRun = undefined;
  const left = await liveFaults(target.stack.toxiproxyUrl).catch((err: Error) => [err.message]);
  if (left.length > 0) say(`  ! still injected after the run: ${left.join("; ")}`);
  const verdict = readVerdict(journal)?.status ?? `no journal (exit ${code})`;
  return {
    experiment: experiment.file,
    variant: variant.label,
    verdict: left.length > 0 ? `${verdict}, faults left` : verdict,
    expected,
    journal: shown(journal),
    report: shown(join(dir, "report.html")),
  };
}

async function main(): Promise<number> {
  const started = new Date();
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const showcase = BUNDLED_EXPERIMENTS.find((e) => e.file === SHOWCASE)!;
  const groups: Group[] = [
    { fragile: [], experiments: BUNDLED_EXPERIMENTS },
    { fragile: [showcase.practice], experiments: [showcase] },
  ];
  const total = groups.reduce((n, g) => n + g.experiments.length, 0);
  const cleanups: Array<() => Promise<void>> = [];
  const rows: RunSummary[] = [];
  let failure: unknown;
  say(bold("chaoskit demo"));
  say(
    `Runs the ${BUNDLED_EXPERIMENTS.length} experiments in experiments/ against the sample app with every ` +
      "resilience practice on (each must hold),",
  );
  say(`then ${SHOWCASE} again with the ${showcase.practice} switched off (it must deviate).`);
  say(`Journals and reports: ${shown(OUT)}/. Ctrl-C stops everything and reverts every fault.`);
  say();
  try {
    const { url, basePort } = await monitoring(cleanups);
    for (const group of groups) {
      stopping.signal.throwIfAborted();
      const off = group.fragile.join(",");
      const variant = group.fragile.length
        ? { label: `fragile (${off} off)`, slug: `fragile-${group.fragile.join("-")}` }
        : { label: "resilient", slug: "resilient" };
      const expected = group.fragile.length ? "deviated" : "held";
      say();
      say(bold(`Starting the ${variant.label} sample app (20 checkouts/s)…`));
      const target = await startTargetEnvironment({
        fragile: group.fragile,
        basePort,
        prometheusUrl: url,
        runDir: join(OUT, `target-app-${variant.slug}`),
      });
      cleanups.push(() => target.stop());
      try {
        for (const experiment of group.experiments) {
          stopping.signal.throwIfAborted();
          rows.push(await runOne(rows.length + 1, total, experiment, target, variant, expected));
        }
      } finally {
        await target.stop();
      }
    }
  } catch (err) {
    failure = err;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }

  const seconds = (Date.now() - started.getTime()) / 1000;
  if (rows.length > 0) {
    writeFileSync(join(OUT, "summary.md"), summaryMarkdown(rows, { started, seconds }));
    say();
    say(bold("Summary"));
    say(summaryTable(rows));
    say(`\nwritten to ${shown(join(OUT, "summary.md"))} in ${seconds.toFixed(0)} s`);
  }
  if (stopping.signal.aborted) {
    say("interrupted: every fault was reverted and everything the demo started is stopped");
    return 130;
  }
  if (failure !== undefined) {
    const hint = failure instanceof ChaosError && failure.hint ? `\n  hint: ${failure.hint}` : "";
    say(`\ndemo failed: ${failure instanceof Error ? failure.message : String(failure)}${hint}`);
    return 1;
  }
  const ok = allAsExpected(rows) && rows.length === total;
  say(ok ? "every verdict was the expected one" : "at least one verdict was not the expected one");
  return ok ? 0 : 1;
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);
process.exitCode = await main();

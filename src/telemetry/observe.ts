import type { Logger } from "pino";
import { errorMessage } from "../experiments/errors.js";
import type { ProbeStart, RunEvent } from "../experiments/events.js";
import { bindSecrets, SecretTemplate } from "../experiments/interpolate.js";
import type { Journal } from "../experiments/journal.js";
import type { Experiment } from "../experiments/model.js";
import { outputRedactor } from "../experiments/redact.js";
import { resolveSecrets } from "../experiments/secrets.js";
import { metricsConfig } from "./metrics-config.js";
import type { Recipient, RunNotifier } from "./notify.js";
import type { RunMetrics } from "./run-metrics.js";
import { readUserSettings } from "./settings.js";
import { traceConfig } from "./trace-config.js";
import type { RunTraces } from "./traces.js";

/**
 * Those who watch a run from outside (a trace backend, …): they hear every run event and get the
 * verdict at the end. Watching never judges: a failure here is logged and noted in the journal's
 * `notSent`, and changes no verdict, no rollback and no exit code.
 */
export interface RunObservers {
  onEvent(event: RunEvent): void;
  /** Opens a probe check's span; returns the W3C trace context its requests carry, when the run is traced. */
  traceProbe(check: ProbeStart): Record<string, string> | undefined;
  /**
   * Delivers the verdict (bounded), or the reason the run stopped without one; returns what could not be
   * delivered, redacted.
   */
  end(outcome: Journal | { error: string }): Promise<string[]>;
}

export interface ObserveOptions {
  runId: string;
  toolVersion: string;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts whatever the environment, the experiment and the user's settings file ask for; nothing at all (and
 * no SDK loaded) when nothing is asked.
 * @throws ChaosError("invalid") when the settings file says something wrong.
 */
export async function observeRun(experiment: Experiment, opts: ObserveOptions): Promise<RunObservers> {
  const env = opts.env ?? process.env;
  const log = opts.log.child({ part: "telemetry" });
  const settings = await readUserSettings(env, log);
  const notes: string[] = [];
  let metrics: RunMetrics | undefined;
  const metricsTo = metricsConfig(env, experiment, settings);
  if (metricsTo) {
    try {
      const { RunMetrics } = await import("./run-metrics.js");
      metrics = new RunMetrics(metricsTo, experiment, opts.runId, opts.toolVersion);
      metrics.start();
    } catch (err) {
      notes.push(`metrics: could not start: ${errorMessage(err)}`);
    }
  }
  let traces: RunTraces | undefined;
  const tracing = traceConfig(env);
  if (tracing) {
    try {
      const { startRunTraces } = await import("./traces.js");
      traces = await startRunTraces(tracing, experiment, opts.runId, opts.toolVersion);
    } catch (err) {
      notes.push(`traces: could not start: ${errorMessage(err)}`);
    }
  }
  let notifier: RunNotifier | undefined;
  const recipients = notificationRecipients(experiment, settings.notifications ?? [], env);
  if (recipients.length) {
    const { RunNotifier } = await import("./notify.js");
    const timeout = Number(env.CHAOS_NOTIFY_TIMEOUT_MS);
    notifier = new RunNotifier(
      recipients,
      experiment,
      opts.runId,
      Number.isFinite(timeout) && timeout > 0 ? timeout : 3_000,
    );
    notifier.started();
  }
  const guarded = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      log.warn({ err: outputRedactor.text(errorMessage(err)) }, `${what} failed`);
    }
  };
  return {
    onEvent: (event) => {
      if (traces) guarded("tracing an event", () => traces?.trace.onEvent(event));
      if (metrics) guarded("counting an event", () => metrics?.onEvent(event));
      if (notifier) guarded("notifying an event", () => notifier?.onEvent(event));
    },
    traceProbe: (check) => {
      if (!traces) return undefined;
      const t = traces;
      let headers: Record<string, string> | undefined;
      guarded("tracing a probe", () => {
        headers = t.headersFor(t.trace.probeStarted(check));
      });
      return headers;
    },
    end: async (outcome) => {
      const pushed = metrics?.end(outcome).catch((err) => `metrics: ${errorMessage(err)}`);
      const told = notifier?.end(outcome).catch((err) => [`notifications: ${errorMessage(err)}`]);
      if (traces) {
        const t = traces;
        guarded("ending the trace", () =>
          "error" in outcome ? t.trace.abandon(outcome.error) : t.trace.finish(outcome),
        );
        const unsent = await t.end().catch((err) => `traces: ${errorMessage(err)}`);
        if (unsent) notes.push(unsent);
      }
      const unpushed = await pushed;
      if (unpushed) notes.push(unpushed);
      notes.push(...((await told) ?? []));
      for (const note of notes) log.warn({ note: outputRedactor.text(note) }, "not delivered");
      return notes.map((n) => outputRedactor.text(n));
    },
  };
}

/**
 * The settings file's notification targets, then the experiment's, with their secrets read.
 * @throws ChaosError("invalid") when a secret they name cannot be read.
 */
function notificationRecipients(
  experiment: Experiment,
  fromSettings: NonNullable<Experiment["notifications"]>,
  env: NodeJS.ProcessEnv,
): Recipient[] {
  const all = [...fromSettings, ...(experiment.notifications ?? [])];
  let secrets: Record<string, string> | undefined;
  return all.map((target) => {
    if (!("webhook" in target) || !(target.secret instanceof SecretTemplate)) return target as Recipient;
    secrets ??= resolveSecrets(experiment.secrets, env);
    return { webhook: target.webhook, secret: String(bindSecrets(target.secret, secrets, outputRedactor)) };
  });
}

import { Gauge, Registry } from "prom-client";
import { errorMessage } from "../experiments/errors.js";
import type { RunEvent } from "../experiments/events.js";
import type { Journal } from "../experiments/journal.js";
import type { Experiment } from "../experiments/model.js";
import { outputRedactor } from "../experiments/redact.js";
import { type MetricsConfig, requestParts } from "./metrics-config.js";

/**
 * A run's metrics, pushed to a Prometheus Pushgateway when the run starts, when a fault is applied or
 * reverted, and when it ends. One group per experiment (`job="chaoskit"`, `experiment="<title>"`), replaced
 * by each push, so a dashboard sees the last run of each experiment:
 *
 *   chaos_run_info{run_id,version}            1
 *   chaos_run_verdict{verdict}                1   (`running` until the verdict)
 *   chaos_run_score                           the resilience score in percent, once judged
 *   chaos_run_duration_seconds                so far, then the run's duration
 *   chaos_fault_active{action,target}         1 while the fault is live, 0 once reverted
 *
 * Pushes leave in the background, one at a time; while one is on its way, the next ones collapse into a
 * single push of the latest state. Each is bounded by the timeout, and a failure is only counted, for the
 * journal's note: a Pushgateway that is slow or absent delays no fault and no revert.
 */
export class RunMetrics {
  private readonly registry = new Registry();
  private readonly verdict: Gauge<"verdict">;
  private readonly score: Gauge;
  private readonly duration: Gauge;
  private readonly fault: Gauge<"action" | "target">;
  private readonly faultLabels = new Map<string, { action: string; target: string }>();
  private readonly started = Date.now();
  private readonly closing = new AbortController();
  private readonly request: { url: string; headers: Record<string, string> };
  private inFlight?: Promise<void>;
  private again = false;
  private ended = false;
  private pushes = 0;
  private failed = 0;
  private lastError = "";

  constructor(
    private readonly config: MetricsConfig,
    private readonly experiment: Experiment,
    runId: string,
    toolVersion: string,
  ) {
    const registers = [this.registry];
    new Gauge({
      name: "chaos_run_info",
      help: "The run this group describes: its id and the toolkit's version.",
      labelNames: ["run_id", "version"],
      registers,
    }).set({ run_id: runId, version: toolVersion }, 1);
    this.verdict = new Gauge({
      name: "chaos_run_verdict",
      help: "1 for the run's verdict (running until it is judged).",
      labelNames: ["verdict"],
      registers,
    });
    this.verdict.set({ verdict: "running" }, 1);
    this.score = new Gauge({
      name: "chaos_run_score",
      help: "The resilience score in percent: the weighted share of hypothesis checks that held.",
      registers,
    });
    this.duration = new Gauge({
      name: "chaos_run_duration_seconds",
      help: "How long the run took (so far, while it runs).",
      registers,
    });
    this.fault = new Gauge({
      name: "chaos_fault_active",
      help: "1 while a fault is live, 0 once it is reverted.",
      labelNames: ["action", "target"],
      registers,
    });
    const base = requestParts(config.url);
    const title = Buffer.from(experiment.title).toString("base64url") || "=";
    this.request = {
      url: `${base.url.replace(/\/+$/, "")}/metrics/job/chaoskit/experiment@base64/${title}`,
      headers: { ...base.headers, "content-type": this.registry.contentType },
    };
  }

  /** Pushes the run's start. */
  start(): void {
    this.push();
  }

  onEvent(e: RunEvent): void {
    if (e.type === "fault-applied") {
      const labels = this.labelsOf(e.fault.step);
      this.faultLabels.set(e.fault.description, labels);
      this.fault.set(labels, 1);
      this.push();
    } else if (e.type === "rollback" && e.record.source === "automatic") {
      const labels = this.faultLabels.get(e.record.description);
      // A revert that failed leaves the fault live: it stays 1.
      if (!labels || e.record.status !== "succeeded") return;
      this.fault.set(labels, 0);
      this.push();
    }
  }

  /**
   * Pushes the verdict (or `error` for a run that stopped without one), waiting at most the timeout.
   * @returns what could not be pushed, for the journal; undefined when every push went.
   */
  async end(outcome: Journal | { error: string }): Promise<string | undefined> {
    this.ended = true;
    this.verdict.reset();
    if ("error" in outcome) {
      this.verdict.set({ verdict: "error" }, 1);
      this.duration.set((Date.now() - this.started) / 1000);
    } else {
      this.verdict.set({ verdict: outcome.status }, 1);
      if (outcome.score !== undefined) this.score.set(outcome.score);
      this.duration.set(outcome.durationMs / 1000);
    }
    this.push();
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.settled().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.config.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!done) {
      // What is still on its way is given up: the push counts as failed, and nothing follows it.
      this.closing.abort();
      await this.settled();
    }
    if (!this.failed) return undefined;
    return `metrics: ${this.failed} of ${this.pushes} pushes to ${this.config.shownTarget} failed: ${this.lastError}`;
  }

  private labelsOf(stepName: string): { action: string; target: string } {
    const step = this.experiment.method.find((s) => s.name === stepName);
    if (step?.kind !== "action") return { action: stepName, target: "" };
    return { action: step.ref, target: outputRedactor.text(JSON.stringify(step.target)) };
  }

  /** Resolves once no push is on its way or waiting. */
  private async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private push(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.pushes++;
    this.inFlight = this.send().finally(() => {
      this.inFlight = undefined;
      if (this.again && !this.closing.signal.aborted) {
        this.again = false;
        this.push();
      }
    });
  }

  private async send(): Promise<void> {
    if (!this.ended) this.duration.set((Date.now() - this.started) / 1000);
    try {
      const body = await this.registry.metrics();
      const res = await fetch(this.request.url, {
        method: "PUT",
        headers: this.request.headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.config.timeoutMs), this.closing.signal]),
      });
      const answer = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status} ${answer.slice(0, 200)}`);
    } catch (err) {
      this.failed++;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      this.lastError = this.closing.signal.aborted
        ? `no answer within ${this.config.timeoutMs} ms`
        : outputRedactor.text(
            `${errorMessage(err)}${cause ? ` (${cause.code ?? cause.message ?? String(cause)})` : ""}`,
          );
    }
  }
}

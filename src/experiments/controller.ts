import type { Logger } from "pino";
import type { Registry } from "../agents/registry.js";
import type { AgentContext } from "../contract/agent.js";
import { runFigures } from "./checks.js";
import { sleep, TimeoutError } from "./clock.js";
import { formatDuration } from "./duration.js";
import { ChaosError, errorMessage } from "./errors.js";
import { logEvent, type ProbeStart, type RunEvent } from "./events.js";
import { type AbortKind, couldNotJudge, isBlind, type RunFacts, verdict } from "./evidence.js";
import { Faults } from "./faults.js";
import { Hypothesis } from "./hypothesis.js";
import { bindSecrets } from "./interpolate.js";
import { type ActivityRecord, EXIT_FOR_STATUS, type Journal, openJournal } from "./journal.js";
import type { Ledger } from "./ledger.js";
import { Locks, machineLeasesDir } from "./locks.js";
import type { Experiment, Step } from "./model.js";
import { preflight, prepareAgents } from "./preflight.js";
import { outputRedactor } from "./redact.js";
import { RunResources } from "./resources.js";
import { rollbacksToRun } from "./rollbacks-when.js";
import { newRunId } from "./run-identity.js";
import { now, type RunScope } from "./run-scope.js";
import { resolveSecrets } from "./secrets.js";

export type { RunEvent } from "./events.js";
export { newRunId } from "./run-identity.js";

export interface ControllerOptions {
  registry: Registry;
  log: Logger;
  ledger: Ledger;
  toolVersion: string;
  env?: NodeJS.ProcessEnv;
  runId?: string;
  onEvent?: (event: RunEvent) => void;
  /** The run's tracing: opens a probe check's span, returns the trace headers its requests carry. */
  traceProbe?: (check: ProbeStart) => Record<string, string> | undefined;
  /** Default deadline for one probe when the experiment gives none. */
  probeTimeoutMs?: number;
}

type AbortReason = NonNullable<RunFacts["abort"]>;

/**
 * Runs one experiment through its lifecycle:
 *   1. steady state before  2. method (+ hypothesis during, stop conditions)  3. rollbacks (always)
 *   4. steady state after   5. verdict       (3: every fault; the experiment's own steps by rollbacksWhen)
 * It knows agents only through the registry and the Agent interface.
 */
export class Controller {
  readonly runId: string;
  private readonly runAbort = new AbortController();
  /** Aborted only by a signal: ends the recovery wait too, which a stop condition does not. */
  private readonly signalStop = new AbortController();
  private abortReason?: AbortReason;
  private readonly resources: RunResources;
  private readonly locks: Locks;
  private faults!: Faults;
  private hypothesis!: Hypothesis;
  private readonly reasons: string[] = [];
  private deviated = false;
  private errored = false;
  private secrets: Record<string, string> = {};
  private ctx!: AgentContext;
  private scope!: RunScope;
  private readonly journal: Journal;
  private readonly log: Logger;

  constructor(
    private readonly experiment: Experiment,
    private readonly opts: ControllerOptions,
  ) {
    this.runId = opts.runId ?? newRunId();
    this.log = opts.log.child({ runId: this.runId });
    this.resources = new RunResources(this.log);
    const run = { runId: this.runId, experiment: experiment.title };
    this.locks = new Locks(opts.ledger, run, machineLeasesDir());
    this.journal = openJournal(this.runId, experiment, opts.toolVersion);
  }

  /** Aborts the run (e.g. on SIGINT): the method stops at once and every fault is rolled back. */
  abort(kind: AbortKind, message: string): void {
    if (kind === "signal") this.signalStop.abort();
    if (kind === "failure") this.errored = true;
    if (this.abortReason) return;
    this.abortReason = { kind, message };
    this.log.warn({ kind, reason: outputRedactor.text(message) }, "run aborted");
    this.emit({ type: "abort", reason: message });
    this.runAbort.abort(new ChaosError("aborted", message));
  }

  /**
   * Runs the experiment and returns its journal. Faults are reverted on every path out of this function.
   * @throws ChaosError("invalid") when a secret cannot be read or a preflight rejects a query,
   *         ChaosError("agent") when a preflight cannot reach a service — in both cases nothing was injected.
   */
  async run(): Promise<Journal> {
    const started = Date.now();
    this.openContext();
    let notSteady = false;
    try {
      if (!(await this.readyToInject())) return this.finish(started, false);
      try {
        notSteady = !(await this.steadyStateBefore());
        if (!notSteady && !this.runAbort.signal.aborted) await this.runMethod();
      } catch (err) {
        this.fail(`unexpected error: ${errorMessage(err)}`);
      } finally {
        await this.rollbacks(notSteady);
      }
      if (!notSteady && this.abortReason?.kind !== "signal" && !this.errored) await this.steadyStateAfter();
    } finally {
      await this.resources.close();
    }
    return this.finish(started, notSteady);
  }

  /**
   * Checks secrets and runs every probe's preflight, injecting nothing (`chaos run --dry-run`).
   * @throws like run() does before anything is injected.
   */
  async preflightOnly(): Promise<void> {
    this.openContext();
    try {
      await preflight(this.experiment, this.scope);
    } finally {
      await this.resources.close();
    }
  }

  // ── 0. preflight: every probe and action that can check itself does, before anything is touched ──
  /**
   * Runs the preflights and prepares the agents, injecting nothing. An unreachable service is the run's
   * verdict (error, with a journal), and a signal that cut the checks short is an abort.
   * @throws ChaosError("aborted") after a signal; ChaosError("invalid") when a preflight rejects the input.
   */
  private async readyToInject(): Promise<boolean> {
    try {
      await preflight(this.experiment, this.scope);
      await prepareAgents(this.experiment, this.scope);
      return true;
    } catch (err) {
      if (this.signalStop.signal.aborted)
        throw new ChaosError("aborted", `${this.abortReason?.message ?? "aborted"}: nothing was injected`);
      if (!(err instanceof ChaosError) || err.code !== "agent") throw err;
      this.fail(`could not start, nothing was injected: ${errorMessage(err)}`);
      return false;
    }
  }

  private openContext(): void {
    const env = this.opts.env ?? process.env;
    this.secrets = resolveSecrets(this.experiment.secrets, env);
    for (const value of Object.values(this.secrets)) outputRedactor.addSecret(value);
    this.ctx = {
      runId: this.runId,
      experiment: this.experiment.title,
      log: this.log,
      signal: this.runAbort.signal,
      configuration: this.bind(this.experiment.configuration) as Record<string, unknown>,
      secrets: this.secrets,
      resources: this.resources,
      stateDir: this.opts.ledger.dir,
    };
    const scope: RunScope = {
      registry: this.opts.registry,
      log: this.log,
      journal: this.journal,
      ctx: this.ctx,
      runSignal: this.runAbort.signal,
      signalStop: this.signalStop.signal,
      bind: (value) => this.bind(value),
      emit: (event) => this.emit(event),
      fail: (reason) => this.fail(reason),
      traceProbe: this.opts.traceProbe,
    };
    this.scope = scope;
    const run = { runId: this.runId, experiment: this.experiment.title };
    this.faults = new Faults(scope, this.opts.ledger, this.locks, run);
    this.hypothesis = new Hypothesis(scope, this.experiment, {
      probeTimeoutMs: this.opts.probeTimeoutMs,
      onDeviation: () => {
        this.deviated = true; // the reasons summarise these samples per probe when the run ends
      },
      abort: (kind, message) => this.abort(kind, message),
    });
  }

  // ── 1. steady state before ──
  private async steadyStateBefore(): Promise<boolean> {
    const steady = this.experiment.steadyState;
    if (!steady || steady.skip?.before) return true;
    const within = steady.before && formatDuration(steady.before.withinMs);
    this.emit({ type: "phase", phase: "before", note: within && `waiting up to ${within} for it to hold` });
    const records = await this.hypothesis.before();
    // Checks cut short by an abort (Ctrl-C) judge nothing: the run is aborted, neither unsteady nor blind.
    if (this.runAbort.signal.aborted) return false;
    const failed = records.filter((r) => !r.ok);
    const waited = within ? ` (still, after waiting ${within})` : "";
    for (const r of failed) {
      if (isBlind(r)) this.fail(`${couldNotJudge(r, "before")}${waited}`);
      else this.reasons.push(`not steady before: ${r.probe}: ${r.reason}${waited}`);
    }
    return failed.length === 0;
  }

  // ── 2. method, with the hypothesis and the stop conditions watched on their intervals ──
  private async runMethod(): Promise<void> {
    this.emit({ type: "phase", phase: "method" });
    const monitors = this.hypothesis.startMonitors();
    const background: Promise<void>[] = [];
    try {
      for (const step of this.experiment.method) {
        if (this.runAbort.signal.aborted) {
          this.recordSkipped(step);
          continue;
        }
        const running = this.runStep(step);
        if (step.kind !== "pause" && step.background) background.push(running);
        else await running;
      }
    } finally {
      // Background steps may still be applying faults: wait for them so the rollbacks see every fault.
      await Promise.allSettled(background);
      await monitors.stop();
    }
  }

  private async runStep(step: Step): Promise<void> {
    this.emit({ type: "activity-start", name: step.name, kind: step.kind });
    const start = Date.now();
    const rec: ActivityRecord = {
      name: step.name,
      kind: step.kind,
      ref: step.kind === "action" ? step.ref : step.kind === "probe" ? step.probe.key : undefined,
      background: step.kind !== "pause" && step.background,
      start: new Date(start).toISOString(),
      end: "",
      durationMs: 0,
      status: "succeeded",
    };
    try {
      if (step.kind === "pause") {
        await sleep(step.ms, this.runAbort.signal);
        if (this.runAbort.signal.aborted) rec.status = "aborted";
      } else if (step.kind === "probe") {
        const r = await this.hypothesis.measure(step.probe, "method");
        rec.output = { value: r.value, summary: r.summary, outcome: r.outcome, reason: r.reason };
        if (this.runAbort.signal.aborted)
          rec.status = "aborted"; // cut short by the abort: judge nothing
        else if (r.outcome === "error") {
          rec.status = "failed";
          rec.error = r.reason;
          this.fail(`probe "${step.name}" could not be taken: ${r.reason}`);
        } else if (step.probe.tolerance && !r.ok) this.deviate(`method probe "${step.name}": ${r.reason}`);
      } else {
        const outcome = await this.faults.inject(step);
        rec.output = outcome.output;
        rec.status = outcome.status;
      }
    } catch (err) {
      rec.status =
        err instanceof TimeoutError ? "timed-out" : this.runAbort.signal.aborted ? "aborted" : "failed";
      rec.error = errorMessage(err);
      if (rec.status !== "aborted")
        this.fail(`step "${step.name}" ${rec.status === "timed-out" ? "timed out" : "failed"}: ${rec.error}`);
    }
    rec.end = now();
    rec.durationMs = Date.now() - start;
    this.journal.method.push(rec);
    this.emit({ type: "activity", record: rec });
  }

  // ── 3. rollbacks: every live fault, newest first, then the experiment's own rollback actions ──
  private async rollbacks(notSteady: boolean): Promise<void> {
    const own = rollbacksToRun(this.experiment, this.reasons, notSteady, this.deviated, this.abortReason);
    if (!this.faults.pending(own)) return;
    this.emit({ type: "phase", phase: "rollbacks" });
    await this.faults.rollBack(own);
  }

  // ── 4. steady state after: the hypothesis must hold again within the recovery deadline ──
  private async steadyStateAfter(): Promise<void> {
    const steady = this.experiment.steadyState;
    if (!steady || steady.skip?.after) return;
    this.emit({
      type: "phase",
      phase: "after",
      note: steady.after.withinMs ? `recovery within ${formatDuration(steady.after.withinMs)}` : undefined,
    });
    const deadline = Date.now() + steady.after.withinMs;
    while (!this.signalStop.signal.aborted) {
      const records = await this.hypothesis.check("after");
      if (this.signalStop.signal.aborted) return; // a signal cut the checks short: aborted, not blind
      const failed = records.filter((r) => !r.ok);
      if (failed.length === 0) return;
      if (Date.now() + steady.after.everyMs > deadline) {
        for (const r of failed) {
          if (isBlind(r)) this.fail(couldNotJudge(r, "after"));
          else this.deviate(`did not recover after rollbacks: ${r.probe}: ${r.reason}`);
        }
        return;
      }
      await sleep(steady.after.everyMs, this.signalStop.signal);
    }
  }

  // ── 5. verdict: the evidence rules decide what the run may claim ──
  private finish(started: number, notSteady: boolean): Journal {
    const { status, reasons } = verdict({
      experiment: this.experiment,
      journal: this.journal,
      notSteady,
      deviated: this.deviated,
      errored: this.errored,
      abort: this.abortReason,
      reasons: this.reasons,
    });
    Object.assign(this.journal, {
      end: now(),
      durationMs: Date.now() - started,
      status,
      exitCode: EXIT_FOR_STATUS[status],
      reasons,
      ...runFigures(this.journal),
      ...(this.abortReason ? { aborted: { reason: this.abortReason.message, at: now() } } : {}),
    });
    const journal = outputRedactor.deep(this.journal);
    this.log.info({ status, exitCode: journal.exitCode, reasons: journal.reasons }, "verdict");
    return journal;
  }

  // ── helpers ──
  private bind(value: unknown): unknown {
    return bindSecrets(value, this.secrets, outputRedactor);
  }

  private deviate(reason: string): void {
    this.deviated = true;
    this.reasons.push(reason);
  }

  private fail(reason: string): void {
    this.errored = true;
    this.reasons.push(reason);
    this.log.error({ reason: outputRedactor.text(reason) }, "run error");
    if (this.runAbort.signal.aborted) return;
    this.emit({ type: "abort", reason }); // say at once why the method stops, not only in the verdict
    this.runAbort.abort(new ChaosError("agent", reason));
  }

  private recordSkipped(step: Step): void {
    const t = now();
    const rec: ActivityRecord = {
      name: step.name,
      kind: step.kind,
      background: false,
      start: t,
      end: t,
      durationMs: 0,
      status: "skipped",
    };
    this.journal.method.push(rec);
    this.emit({ type: "activity", record: rec });
  }

  private emit(event: RunEvent): void {
    const safe = outputRedactor.deep(event);
    logEvent(this.log, safe);
    this.opts.onEvent?.(safe);
  }
}

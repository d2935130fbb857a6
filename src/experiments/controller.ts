import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { ActivityInput, AgentContext, ProbeResult, RevertDescription } from "../agents/agent.js";
import { revertNote } from "../agents/agent.js";
import type { Registry } from "../agents/registry.js";
import { runFigures } from "./checks.js";
import { every, sleep, TimeoutError, withDeadline } from "./clock.js";
import { formatDuration } from "./duration.js";
import { ChaosError, errorMessage } from "./errors.js";
import { logEvent, type RunEvent } from "./events.js";
import {
  type AbortKind,
  couldNotJudge,
  failureOutcome,
  isBlind,
  judgeStopCheck,
  verdict,
} from "./evidence.js";
import { bindSecrets } from "./interpolate.js";
import {
  type ActivityRecord,
  type ActivityStatus,
  EXIT_FOR_STATUS,
  type FaultRecord,
  type Journal,
  type Phase,
  type ProbeRecord,
  type RollbackRecord,
} from "./journal.js";
import type { Ledger, LedgerEntry } from "./ledger.js";
import { Locks } from "./locks.js";
import type { ActionStep, Experiment, ProbeSpec, Step } from "./model.js";
import { outputRedactor } from "./redact.js";
import { RunResources } from "./resources.js";
import { resolveSecrets } from "./secrets.js";

export type { RunEvent } from "./events.js";

export interface ControllerOptions {
  registry: Registry;
  log: Logger;
  ledger: Ledger;
  toolVersion: string;
  env?: NodeJS.ProcessEnv;
  runId?: string;
  onEvent?: (event: RunEvent) => void;
  /** Default deadline for one probe when the experiment gives none. */
  probeTimeoutMs?: number;
}

interface AbortReason {
  kind: AbortKind;
  message: string;
}

interface LiveFault {
  entry: LedgerEntry;
  revert: RevertDescription;
  record: FaultRecord;
  reverted: boolean;
  /** Its apply outlived the action's timeout and had not settled when the rollback came. */
  inFlight?: boolean;
  /** The revert as written to the ledger, to notice when apply() refined it. */
  recorded: string;
  /** The leases held for this fault until it is reverted. */
  locks: string[];
}

/** How long a timed-out apply may still take to settle before the rollback goes ahead without it. */
const APPLY_SETTLE_MS = 30_000;
/** How long one revert attempt may take. */
const REVERT_DEADLINE_MS = 60_000;

const now = () => new Date().toISOString();

export function newRunId(): string {
  const d = new Date();
  const stamp = d.toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/**
 * Runs one experiment through its lifecycle:
 *   1. steady state before  2. method (+ hypothesis during, stop conditions)  3. rollbacks (always)
 *   4. steady state after   5. verdict
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
  private readonly live: LiveFault[] = [];
  private readonly reasons: string[] = [];
  private deviated = false;
  private errored = false;
  private secrets: Record<string, string> = {};
  private ctx!: AgentContext;
  private readonly journal: Journal;
  private readonly log: Logger;

  constructor(
    private readonly experiment: Experiment,
    private readonly opts: ControllerOptions,
  ) {
    this.runId = opts.runId ?? newRunId();
    this.log = opts.log.child({ runId: this.runId });
    this.resources = new RunResources(this.log);
    this.locks = new Locks(opts.ledger, { runId: this.runId, experiment: experiment.title });
    this.journal = {
      $schema: "https://chaoskit.dev/schema/journal-v1.json",
      tool: { name: "chaoskit", version: opts.toolVersion },
      runId: this.runId,
      experiment: {
        title: experiment.title,
        file: experiment.file,
        tags: experiment.tags,
        document: experiment.document,
      },
      start: now(),
      end: "",
      durationMs: 0,
      status: "held",
      exitCode: 0,
      reasons: [],
      steadyState: { before: [], during: [], after: [] },
      stopConditions: [],
      method: [],
      faults: [],
      rollbacks: [],
    };
  }

  /** Aborts the run (e.g. on SIGINT): the method stops at once and every fault is rolled back. */
  abort(kind: AbortKind, message: string): void {
    if (kind === "signal") this.signalStop.abort();
    if (kind === "failure") this.errored = true;
    if (this.abortReason) return;
    this.abortReason = { kind, message };
    this.log.warn({ kind, reason: this.redact(message) }, "run aborted");
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
        await this.rollbacks();
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
      await this.preflight();
    } finally {
      await this.resources.close();
    }
  }

  /**
   * Runs the preflights and prepares the agents, injecting nothing. An unreachable service is the run's
   * verdict (error, with a journal), and a signal that cut the checks short is an abort.
   * @throws ChaosError("aborted") after a signal; ChaosError("invalid") when a preflight rejects the input.
   */
  private async readyToInject(): Promise<boolean> {
    try {
      await this.preflight();
      await this.prepareAgents();
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
      log: this.log,
      signal: this.runAbort.signal,
      configuration: this.bind(this.experiment.configuration) as Record<string, unknown>,
      secrets: this.secrets,
      resources: this.resources,
    };
  }

  // ── 0. preflight: every probe that can check itself does, before anything is touched ──
  private async preflight(): Promise<void> {
    const probes = [
      ...(this.experiment.steadyState?.probes ?? []),
      ...this.experiment.stopWhen.map((s) => s.probe),
      ...this.experiment.method.flatMap((s) => (s.kind === "probe" ? [s.probe] : [])),
    ];
    for (const spec of probes) {
      const { probe } = this.opts.registry.probe(spec.key);
      if (probe.preflight) await probe.preflight(this.bind(spec.args) as Record<string, unknown>, this.ctx);
    }
  }

  private async prepareAgents(): Promise<void> {
    const e = this.experiment;
    const used = new Set<string>([
      ...Object.keys(e.configuration),
      ...(e.steadyState?.probes ?? []).map((p) => p.agent),
      ...e.stopWhen.map((s) => s.probe.agent),
      ...e.method.flatMap((s) =>
        s.kind === "action" ? [s.agent] : s.kind === "probe" ? [s.probe.agent] : [],
      ),
      ...e.rollbacks.map((s) => s.agent),
    ]);
    for (const agent of this.opts.registry.agents()) {
      if (used.has(agent.name) && agent.prepareRun) await agent.prepareRun(this.ctx);
    }
  }

  // ── 1. steady state before ──
  private async steadyStateBefore(): Promise<boolean> {
    const steady = this.experiment.steadyState;
    if (!steady) return true;
    this.emit({ type: "phase", phase: "before" });
    const records = await this.checkHypothesis("before");
    // Checks cut short by an abort (Ctrl-C) judge nothing: the run is aborted, neither unsteady nor blind.
    if (this.runAbort.signal.aborted) return false;
    const failed = records.filter((r) => !r.ok);
    for (const r of failed) {
      if (isBlind(r)) this.fail(couldNotJudge(r, "before"));
      else this.reasons.push(`not steady before: ${r.probe}: ${r.reason}`);
    }
    return failed.length === 0;
  }

  // ── 2. method, with the hypothesis and the stop conditions watched on their intervals ──
  private async runMethod(): Promise<void> {
    this.emit({ type: "phase", phase: "method" });
    const monitors = this.startMonitors();
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

  private startMonitors(): { stop(): Promise<void> } {
    const loops: { stop(): Promise<void> }[] = [];
    const during = this.experiment.steadyState?.during;
    if (during && during !== "none") {
      loops.push(
        every(during.everyMs, async () => {
          if (this.runAbort.signal.aborted) return;
          const records = await this.checkHypothesis("during");
          if (this.runAbort.signal.aborted) return;
          for (const r of records.filter((x) => !x.ok)) {
            // A blind probe stops the method: faults must not stay live while nobody can see them.
            if (isBlind(r)) {
              this.fail(couldNotJudge(r, "during"));
              continue;
            }
            this.deviated = true; // the reasons summarise these samples per probe when the run ends
            if (during.failFast)
              this.abort("fail-fast", `hypothesis deviated (fail-fast): ${r.probe}: ${r.reason}`);
          }
        }),
      );
    }
    for (const cond of this.experiment.stopWhen) {
      loops.push(
        every(cond.everyMs, async () => {
          if (this.runAbort.signal.aborted) return;
          const { record, stop } = judgeStopCheck(cond, await this.measure(cond.probe, "stop-when"));
          if (this.runAbort.signal.aborted) return;
          this.journal.stopConditions.push(record);
          this.emit({ type: "probe", record });
          if (stop) this.abort(stop.kind, stop.message);
        }),
      );
    }
    return { stop: async () => void (await Promise.all(loops.map((l) => l.stop()))) };
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
        const r = await this.measure(step.probe, "method");
        rec.output = { value: r.value, summary: r.summary, outcome: r.outcome, reason: r.reason };
        if (this.runAbort.signal.aborted)
          rec.status = "aborted"; // cut short by the abort: judge nothing
        else if (r.outcome === "error") {
          rec.status = "failed";
          rec.error = r.reason;
          this.fail(`probe "${step.name}" could not be taken: ${r.reason}`);
        } else if (step.probe.tolerance && !r.ok) this.deviate(`method probe "${step.name}": ${r.reason}`);
      } else {
        const outcome = await this.runAction(step);
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

  /** Prepare → record the revert in the ledger → apply → (after `duration`) revert. */
  private async runAction(step: ActionStep): Promise<{ output: unknown; status: ActivityStatus }> {
    const { agent, action } = this.opts.registry.action(step.ref);
    const deadline = new AbortController();
    const signal = AbortSignal.any([this.runAbort.signal, deadline.signal]);
    const ctx: AgentContext = { ...this.ctx, signal, log: this.log.child({ action: step.ref }) };
    const input = this.bindInput(step);
    let live: LiveFault | undefined;
    let work: Promise<unknown> | undefined;
    let output: unknown;
    try {
      output = await withDeadline(`action "${step.name}"`, step.timeoutMs, deadline, () => {
        work = (async () => {
          const prepared = await action.prepare(input, ctx);
          const locks = prepared.locks ?? [];
          // The lease comes before the ledger entry: a target another run is faulting is refused untouched.
          await this.locks.acquire(locks);
          if (!prepared.revert) {
            if (this.runAbort.signal.aborted) throw this.runAbort.signal.reason;
            return prepared.apply().finally(() => this.locks.release(locks));
          }
          if (agent.name !== prepared.revert.agent)
            throw new ChaosError("agent", `${step.ref} returned a revert for another agent`);
          live = await this.recordFault(step, prepared.revert, locks).catch(async (err) => {
            await this.locks.release(locks);
            throw err;
          });
          if (this.runAbort.signal.aborted) throw this.runAbort.signal.reason;
          return prepared.apply();
        })();
        return work;
      });
    } catch (err) {
      // The deadline stops the waiting, not the agent: an apply still in flight would land after its revert.
      // Let it settle (bounded) so the rollback undoes what it did; if it never settles, keep its ledger
      // entry so that `chaos rollback` can revert it again later.
      if (err instanceof TimeoutError && work) {
        const settled = await Promise.race([
          work.then(
            () => true,
            () => true,
          ),
          sleep(APPLY_SETTLE_MS).then(() => false),
        ]);
        if (!settled && live) live.inFlight = true;
      }
      throw err;
    }
    if (live && JSON.stringify(live.revert) !== live.recorded) {
      // The agent refined its revert while applying (e.g. a proxy turned out to exist already): keep the
      // ledger exact, so that `chaos rollback` after a crash undoes no more and no less than was done.
      await this.opts.ledger.rewrite({ ...live.entry, revert: live.revert });
    }
    if (live) {
      live.record.appliedAt = now();
      this.emit({ type: "fault-applied", fault: live.record });
    }
    if (step.durationMs !== undefined && live) {
      await sleep(step.durationMs, this.runAbort.signal);
      await this.revertFault(live);
      return { output, status: this.runAbort.signal.aborted ? "aborted" : "succeeded" };
    }
    return { output, status: "succeeded" };
  }

  private async recordFault(
    step: ActionStep,
    revert: RevertDescription,
    locks: string[],
  ): Promise<LiveFault> {
    const entry = await this.opts.ledger.record({
      runId: this.runId,
      experiment: this.experiment.title,
      step: step.name,
      revert,
      ...(locks.length ? { locks } : {}),
    });
    const record: FaultRecord = {
      step: step.name,
      ref: step.ref,
      description: revert.description,
      appliedAt: "",
    };
    const live: LiveFault = {
      entry,
      revert,
      record,
      reverted: false,
      recorded: JSON.stringify(revert),
      locks,
    };
    this.live.push(live);
    this.journal.faults.push(record);
    return live;
  }

  // ── 3. rollbacks: every live fault, newest first, then the experiment's own rollback actions ──
  private async rollbacks(): Promise<void> {
    const pending = this.live.filter((f) => !f.reverted);
    if (pending.length === 0 && this.experiment.rollbacks.length === 0) return;
    this.emit({ type: "phase", phase: "rollbacks" });
    // One failing revert must never keep the others from running.
    for (const fault of pending.reverse()) {
      try {
        await this.revertFault(fault);
      } catch (err) {
        this.fail(`revert of "${fault.revert.description}" failed: ${errorMessage(err)}`);
      }
    }
    for (const step of this.experiment.rollbacks) await this.userRollback(step);
  }

  private async revertFault(fault: LiveFault): Promise<void> {
    if (fault.reverted) return;
    fault.reverted = true;
    const agent = this.opts.registry.agent(fault.revert.agent)!;
    const start = Date.now();
    let error: string | undefined;
    let note: string | undefined;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const deadline = new AbortController();
      const ctx: AgentContext = { ...this.ctx, signal: deadline.signal };
      try {
        const outcome = await withDeadline<unknown>(
          `revert "${fault.revert.description}"`,
          REVERT_DEADLINE_MS,
          deadline,
          () => agent.revert(fault.revert, ctx),
        );
        note = revertNote(outcome);
        error = undefined;
        break;
      } catch (err) {
        error = errorMessage(err);
        this.log.warn(
          { attempt, revert: this.redact(fault.revert.description), err: this.redact(error) },
          "revert failed",
        );
        await sleep(200 * attempt);
      }
    }
    if (error) {
      this.fail(
        `could not revert "${fault.revert.description}": ${error} (still recorded in ${this.opts.ledger.dir}; run chaos rollback)`,
      );
    } else if (fault.inFlight) {
      fault.record.revertedAt = now();
      this.fail(
        `"${fault.revert.description}" was reverted while its apply was still in flight after a timeout; it stays in ${this.opts.ledger.dir}: run chaos rollback once the target settles`,
      );
    } else {
      fault.record.revertedAt = now();
      try {
        await this.opts.ledger.remove(fault.entry.id);
      } catch (err) {
        // Reverted all the same; a leftover entry only makes `chaos rollback` revert it again, harmlessly.
        this.log.warn(
          { entry: fault.entry.id, err: (err as Error).message },
          "could not remove a ledger entry",
        );
      }
      await this.locks.release(fault.locks);
    }
    this.pushRollback({ description: fault.revert.description, source: "automatic", start, error, note });
  }

  private async userRollback(step: ActionStep): Promise<void> {
    const start = Date.now();
    let error: string | undefined;
    try {
      const { action } = this.opts.registry.action(step.ref);
      const ctx: AgentContext = { ...this.ctx, signal: new AbortController().signal };
      const input = this.bindInput(step);
      await withDeadline(
        `rollback "${step.name}"`,
        step.timeoutMs ?? 60_000,
        new AbortController(),
        async () => {
          await (await action.prepare(input, ctx)).apply();
        },
      );
    } catch (err) {
      error = errorMessage(err);
      this.fail(`rollback "${step.name}" failed: ${error}`);
    }
    this.pushRollback({ description: step.name, source: "user", start, error });
  }

  private pushRollback(r: {
    description: string;
    source: "automatic" | "user";
    start: number;
    error?: string;
    note?: string;
  }): void {
    const record: RollbackRecord = {
      description: r.description,
      source: r.source,
      start: new Date(r.start).toISOString(),
      end: now(),
      durationMs: Date.now() - r.start,
      status: r.error ? "failed" : "succeeded",
      ...(r.error ? { error: r.error } : {}),
      ...(r.note ? { note: this.redact(r.note) } : {}),
    };
    this.journal.rollbacks.push(record);
    this.emit({ type: "rollback", record });
  }

  // ── 4. steady state after: the hypothesis must hold again within the recovery deadline ──
  private async steadyStateAfter(): Promise<void> {
    const steady = this.experiment.steadyState;
    if (!steady) return;
    this.emit({
      type: "phase",
      phase: "after",
      note: steady.after.withinMs ? `recovery within ${formatDuration(steady.after.withinMs)}` : undefined,
    });
    const deadline = Date.now() + steady.after.withinMs;
    while (!this.signalStop.signal.aborted) {
      const records = await this.checkHypothesis("after");
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

  // ── probes ──
  private async checkHypothesis(phase: "before" | "during" | "after"): Promise<ProbeRecord[]> {
    const probes = this.experiment.steadyState?.probes ?? [];
    const records = await Promise.all(probes.map((p) => this.measure(p, phase)));
    // A check that the run's abort cut short measured nothing: keep it out of the series.
    if (phase === "during" && this.runAbort.signal.aborted) return [];
    for (const r of records) {
      this.journal.steadyState[phase].push(r);
      this.emit({ type: "probe", record: r });
    }
    return records;
  }

  /** Runs one probe and judges it; a probe that cannot be taken is an `error` outcome, never a crash. */
  private async measure(spec: ProbeSpec, phase: Phase): Promise<ProbeRecord> {
    const start = Date.now();
    const base = {
      probe: spec.name,
      key: spec.key,
      phase,
      start: new Date(start).toISOString(),
      tolerance: spec.tolerance?.text,
      ...(spec.weight === undefined ? {} : { weight: spec.weight }),
    };
    const deadline = new AbortController();
    // After the method the run is already aborted (or ended): only a signal may cut the recovery checks short.
    const stop = phase === "after" ? this.signalStop.signal : this.runAbort.signal;
    const ctx: AgentContext = { ...this.ctx, signal: AbortSignal.any([deadline.signal, stop]) };
    try {
      const { probe } = this.opts.registry.probe(spec.key);
      const args = this.bind(spec.args) as Record<string, unknown>;
      const timeout = spec.timeoutMs ?? this.opts.probeTimeoutMs ?? 30_000;
      const result: ProbeResult = await withDeadline(`probe "${spec.name}"`, timeout, deadline, () =>
        probe.run(args, ctx),
      );
      const j = spec.tolerance?.judge(result) ?? { outcome: "pass" as const, ok: true, reason: "recorded" };
      return {
        ...base,
        end: now(),
        durationMs: Date.now() - start,
        ...j,
        value: sanitize(result.value),
        summary: result.summary,
      };
    } catch (err) {
      return {
        ...base,
        end: now(),
        durationMs: Date.now() - start,
        outcome: failureOutcome(err),
        ok: false,
        reason: errorMessage(err),
      };
    }
  }

  // ── helpers ──
  private bind(value: unknown): unknown {
    return bindSecrets(value, this.secrets, outputRedactor);
  }

  /** An action step's target and args with every reference resolved, secrets included. */
  private bindInput(step: ActionStep): ActivityInput {
    return {
      target: this.bind(step.target) as Record<string, unknown>,
      args: this.bind(step.args) as Record<string, unknown>,
    };
  }

  private redact(text: string): string {
    return outputRedactor.text(text);
  }

  private deviate(reason: string): void {
    this.deviated = true;
    this.reasons.push(reason);
  }

  private fail(reason: string): void {
    this.errored = true;
    this.reasons.push(reason);
    this.log.error({ reason: this.redact(reason) }, "run error");
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

/** NaN and ±Infinity do not survive JSON; keep them readable in the journal. */
function sanitize(v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return v;
}

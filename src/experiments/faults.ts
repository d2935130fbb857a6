import type { ActivityInput, AgentContext, RevertDescription } from "../contract/agent.js";
import { revertNote, revertVanished } from "../contract/agent.js";
import { sleep, TimeoutError, withDeadline } from "./clock.js";
import { ChaosError, errorMessage } from "./errors.js";
import type { ActivityStatus, FaultRecord, RollbackRecord } from "./journal.js";
import type { Ledger, LedgerEntry } from "./ledger.js";
import type { Locks } from "./locks.js";
import type { ActionStep } from "./model.js";
import { outputRedactor } from "./redact.js";
import { now, type RunScope } from "./run-scope.js";

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

const redact = (text: string): string => outputRedactor.text(text);

/**
 * The faults of one run: each is leased, recorded in the ledger before it is applied, and reverted on every
 * way out — at the end of its `duration`, or by the rollbacks, newest first.
 */
export class Faults {
  private readonly live: LiveFault[] = [];

  constructor(
    private readonly scope: RunScope,
    private readonly ledger: Ledger,
    private readonly locks: Locks,
    private readonly run: { runId: string; experiment: string },
  ) {}

  /** Prepare → lease → record the revert in the ledger → apply → (after `duration`) revert. */
  async inject(step: ActionStep): Promise<{ output: unknown; status: ActivityStatus }> {
    const { registry, ctx: base, runSignal } = this.scope;
    const { agent, action } = registry.action(step.ref);
    const deadline = new AbortController();
    const signal = AbortSignal.any([runSignal, deadline.signal]);
    const ctx: AgentContext = { ...base, signal, log: this.scope.log.child({ action: step.ref }) };
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
            if (runSignal.aborted) throw runSignal.reason;
            return prepared.apply().finally(() => this.locks.release(locks));
          }
          if (agent.name !== prepared.revert.agent)
            throw new ChaosError("agent", `${step.ref} returned a revert for another agent`);
          live = await this.record(step, prepared.revert, locks).catch(async (err) => {
            await this.locks.release(locks);
            throw err;
          });
          if (runSignal.aborted) throw runSignal.reason;
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
      await this.ledger.rewrite({ ...live.entry, revert: live.revert });
    }
    if (live) {
      live.record.appliedAt = now();
      this.scope.emit({ type: "fault-applied", fault: live.record });
    }
    if (step.durationMs !== undefined && live) {
      await sleep(step.durationMs, runSignal);
      await this.revert(live);
      return { output, status: runSignal.aborted ? "aborted" : "succeeded" };
    }
    return { output, status: "succeeded" };
  }

  /** Whether there is anything to roll back: a live fault or the experiment's own rollback steps. */
  pending(userSteps: readonly ActionStep[]): boolean {
    return this.live.some((f) => !f.reverted) || userSteps.length > 0;
  }

  /** Reverts every live fault, newest first, then runs the experiment's own rollback steps. */
  async rollBack(userSteps: readonly ActionStep[]): Promise<void> {
    // One failing revert must never keep the others from running.
    for (const fault of this.live.filter((f) => !f.reverted).reverse()) {
      try {
        await this.revert(fault);
      } catch (err) {
        this.scope.fail(`revert of "${fault.revert.description}" failed: ${errorMessage(err)}`);
      }
    }
    for (const step of userSteps) await this.userRollback(step);
  }

  /** An action step's target and args with every reference resolved, secrets included. */
  private bindInput(step: ActionStep): ActivityInput {
    return {
      target: this.scope.bind(step.target) as Record<string, unknown>,
      args: this.scope.bind(step.args) as Record<string, unknown>,
      ...(step.durationMs !== undefined ? { durationMs: step.durationMs } : {}),
    };
  }

  private async record(step: ActionStep, revert: RevertDescription, locks: string[]): Promise<LiveFault> {
    const entry = await this.ledger.record({
      runId: this.run.runId,
      experiment: this.run.experiment,
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
    this.scope.journal.faults.push(record);
    return live;
  }

  private async revert(fault: LiveFault): Promise<void> {
    if (fault.reverted) return;
    fault.reverted = true;
    const agent = this.scope.registry.agent(fault.revert.agent)!;
    const start = Date.now();
    let error: string | undefined;
    let note: string | undefined;
    let vanished = false;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const deadline = new AbortController();
      const ctx: AgentContext = { ...this.scope.ctx, signal: deadline.signal };
      try {
        const outcome = await withDeadline<unknown>(
          `revert "${fault.revert.description}"`,
          REVERT_DEADLINE_MS,
          deadline,
          () => agent.revert(fault.revert, ctx),
        );
        note = revertNote(outcome);
        // Only a first attempt can tell: a retry may find what an attempt that then failed removed.
        vanished = attempt === 1 && revertVanished(outcome) && fault.record.appliedAt !== "";
        error = undefined;
        break;
      } catch (err) {
        error = errorMessage(err);
        this.scope.log.warn(
          { attempt, revert: redact(fault.revert.description), err: redact(error) },
          "revert failed",
        );
        await sleep(200 * attempt);
      }
    }
    if (error) {
      this.scope.fail(
        `could not revert "${fault.revert.description}": ${error} (still recorded in ${this.ledger.dir}; run chaos rollback)`,
      );
    } else if (fault.inFlight) {
      fault.record.revertedAt = now();
      this.scope.fail(
        `"${fault.revert.description}" was reverted while its apply was still in flight after a timeout; it stays in ${this.ledger.dir}: run chaos rollback once the target settles`,
      );
    } else {
      fault.record.revertedAt = now();
      if (vanished) {
        // Someone else removed it while it should have been live: its window is unknown, so no claim holds.
        fault.record.vanished = true;
        this.scope.fail(
          `"${fault.revert.description}" vanished before its revert${note ? ` (${note})` : ""}: it was not live for its whole window, so the run cannot judge the hypothesis under it`,
        );
      }
      try {
        await this.ledger.remove(fault.entry.id);
      } catch (err) {
        // Reverted all the same; a leftover entry only makes `chaos rollback` revert it again, harmlessly.
        this.scope.log.warn(
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
      const { action } = this.scope.registry.action(step.ref);
      const ctx: AgentContext = { ...this.scope.ctx, signal: new AbortController().signal };
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
      this.scope.fail(`rollback "${step.name}" failed: ${error}`);
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
      ...(r.note ? { note: redact(r.note) } : {}),
    };
    this.scope.journal.rollbacks.push(record);
    this.scope.emit({ type: "rollback", record });
  }
}

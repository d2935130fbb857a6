import type { Logger } from "pino";
import type { Registry } from "../agents/registry.js";
import { revertNote } from "../contract/agent.js";
import { errorMessage } from "./errors.js";
import type { Ledger, LedgerEntry, MalformedEntry } from "./ledger.js";
import { releaseLease, sweepStaleLeases } from "./locks.js";
import { RunResources } from "./resources.js";
import { isRunAlive } from "./run-identity.js";

export interface RecoveryResult {
  entry: LedgerEntry;
  status: "reverted" | "failed" | "skipped";
  reason?: string;
}

/**
 * Reverts what the ledger still records, newest first — what a crashed or killed run left behind — and
 * releases the leases of what it reverted. Entries of a run that is still alive (same pid, start time and
 * boot) are skipped unless `force` is set (that run will revert them itself). A malformed entry is reported
 * through `onMalformed` and skipped; the others are still reverted. Never throws for one entry's failure:
 * each result says what happened.
 * @throws ChaosError("invalid") when the ledger path is not a folder.
 */
export async function recoverFromLedger(opts: {
  ledger: Ledger;
  registry: Registry;
  log: Logger;
  force?: boolean;
  runId?: string;
  onResult?: (r: RecoveryResult) => void;
  onMalformed?: (m: MalformedEntry) => void;
  /**
   * Told about each stale lease removed (its holder is dead and left nothing in the ledger), and each ledger
   * file a killed run left half-written.
   */
  onStale?: (what: string) => void;
}): Promise<RecoveryResult[]> {
  const { entries, malformed } = await opts.ledger.entries();
  for (const m of malformed) opts.onMalformed?.(m);
  const results: RecoveryResult[] = [];
  const resources = new RunResources(opts.log);
  const report = (r: RecoveryResult) => {
    results.push(r);
    opts.onResult?.(r);
  };
  try {
    for (const entry of [...entries].reverse()) {
      if (opts.runId && entry.runId !== opts.runId) continue;
      if (!opts.force && !opts.runId && (await isRunAlive(entry))) {
        report({
          entry,
          status: "skipped",
          reason: `run ${entry.runId} is still in progress (pid ${entry.pid}); use --force to revert anyway`,
        });
        continue;
      }
      report(await revertEntry(entry, opts, resources));
    }
  } finally {
    await resources.close();
  }
  if (!opts.runId) {
    const left = entries.filter((e) => !results.some((r) => r.entry === e && r.status === "reverted"));
    for (const s of await sweepStaleLeases(opts.ledger.dir, left)) opts.onStale?.(`the stale lease on ${s}`);
    for (const f of await opts.ledger.sweepUnfinished()) opts.onStale?.(`the unfinished ledger write ${f}`);
  }
  return results;
}

async function revertEntry(
  entry: LedgerEntry,
  opts: { ledger: Ledger; registry: Registry; log: Logger },
  resources: RunResources,
): Promise<RecoveryResult> {
  const agent = opts.registry.agent(entry.revert.agent);
  if (!agent) return { entry, status: "failed", reason: `unknown agent "${entry.revert.agent}"` };
  try {
    const outcome = await agent.revert(entry.revert, {
      runId: entry.runId,
      experiment: entry.experiment,
      log: opts.log.child({ runId: entry.runId }),
      signal: AbortSignal.timeout(60_000),
      configuration: {},
      secrets: {},
      resources,
    });
    await opts.ledger.remove(entry.id);
    for (const key of entry.locks ?? []) await releaseLease(opts.ledger.dir, key, entry.runId);
    const note = revertNote(outcome);
    return { entry, status: "reverted", ...(note ? { reason: note } : {}) };
  } catch (err) {
    return { entry, status: "failed", reason: errorMessage(err) };
  }
}

import type { Logger } from "pino";
import { revertNote } from "../agents/agent.js";
import type { Registry } from "../agents/registry.js";
import { errorMessage } from "./errors.js";
import { isAlive, type Ledger, type LedgerEntry } from "./ledger.js";
import { RunResources } from "./resources.js";

export interface RecoveryResult {
  entry: LedgerEntry;
  status: "reverted" | "failed" | "skipped";
  reason?: string;
}

/**
 * Reverts what the ledger still records, newest first — what a crashed or killed run left behind. Entries of a
 * run whose process is still alive are skipped unless `force` is set (that run will revert them itself).
 * Never throws for one entry's failure: each result says what happened.
 */
export async function recoverFromLedger(opts: {
  ledger: Ledger;
  registry: Registry;
  log: Logger;
  force?: boolean;
  runId?: string;
  onResult?: (r: RecoveryResult) => void;
}): Promise<RecoveryResult[]> {
  const { entries } = await opts.ledger.entries();
  const results: RecoveryResult[] = [];
  const resources = new RunResources(opts.log);
  const report = (r: RecoveryResult) => {
    results.push(r);
    opts.onResult?.(r);
  };
  try {
    for (const entry of entries.reverse()) {
      if (opts.runId && entry.runId !== opts.runId) continue;
      if (!opts.force && !opts.runId && entry.pid !== process.pid && isAlive(entry.pid)) {
        report({
          entry,
          status: "skipped",
          reason: `run ${entry.runId} is still in progress (pid ${entry.pid}); use --force to revert anyway`,
        });
        continue;
      }
      const agent = opts.registry.agent(entry.revert.agent);
      if (!agent) {
        report({ entry, status: "failed", reason: `unknown agent "${entry.revert.agent}"` });
        continue;
      }
      try {
        const outcome = await agent.revert(entry.revert, {
          runId: entry.runId,
          log: opts.log.child({ runId: entry.runId }),
          signal: AbortSignal.timeout(60_000),
          configuration: {},
          secrets: {},
          resources,
        });
        await opts.ledger.remove(entry.id);
        report({
          entry,
          status: "reverted",
          ...(revertNote(outcome) ? { reason: revertNote(outcome) } : {}),
        });
      } catch (err) {
        report({ entry, status: "failed", reason: errorMessage(err) });
      }
    }
  } finally {
    await resources.close();
  }
  return results;
}

import { ChaosError } from "../../experiments/errors.js";
import type { RevertContext, RevertDescription, RevertNote } from "../agent.js";
import { ToxiproxyOps } from "./ops.js";
import { reach } from "./session.js";

/** What the ledger keeps for every toxiproxy fault: enough to undo it from a fresh process. */
export interface UndoData {
  url: string;
  /** The server was the embedded one; when it is gone, so is the fault. */
  embedded: boolean;
  /**
   * The pid of the process the embedded server lived in. Another process (`chaos rollback`) has nothing to
   * revert there: the server died with its process, and whatever now answers on that port is someone else's.
   */
  owner?: number;
  toxics: { proxy: string; name: string }[];
  /** Proxies the fault disabled, to enable again. */
  enable: string[];
  /** Proxies the fault created, to delete. */
  created: string[];
  /** Deadline of one API call, as the run had it (absent in entries written before it existed). */
  timeoutMs?: number;
}

export const REVERT_KIND = "undo";

/** @throws ChaosError("agent") when the data is not what this agent writes. */
function readUndo(data: Record<string, unknown>): UndoData {
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
  const toxics = data.toxics;
  const ok =
    typeof data.url === "string" &&
    Array.isArray(toxics) &&
    toxics.every(
      (t: { proxy?: unknown; name?: unknown } | null) =>
        typeof t?.proxy === "string" && typeof t.name === "string",
    ) &&
    strings(data.enable) &&
    strings(data.created) &&
    (data.timeoutMs === undefined || (typeof data.timeoutMs === "number" && data.timeoutMs > 0));
  if (!ok) {
    throw new ChaosError("agent", "malformed toxiproxy revert entry", {
      hint: "expected { url, embedded, toxics: [{proxy, name}], enable: [], created: [] }",
    });
  }
  return data as unknown as UndoData;
}

/**
 * Undoes one toxiproxy fault: removes its toxics, enables the proxies it disabled, deletes the proxies it
 * created. Idempotent: whatever is already gone (404) counts as undone. A fault on an embedded proxy whose
 * process is gone is gone with it: nothing to do.
 * @throws ChaosError("agent") for another agent's description, malformed data, an unreachable external
 * Toxiproxy, or an API failure.
 */
export async function revertToxiproxyFault(
  revert: RevertDescription,
  ctx: RevertContext,
): Promise<RevertNote | undefined> {
  if (revert.agent !== "toxiproxy" || revert.kind !== REVERT_KIND) {
    throw new ChaosError("agent", `the toxiproxy agent cannot revert "${revert.agent}.${revert.kind}"`, {
      hint: `it writes only "${REVERT_KIND}" entries`,
    });
  }
  const undo = readUndo(revert.data);
  if (undo.embedded && undo.owner !== undefined && undo.owner !== process.pid) {
    ctx.log.info(
      { url: undo.url, revert: revert.description },
      "the embedded toxiproxy ended with the run that started it, and its faults with it; nothing to revert",
    );
    return;
  }
  let ops: ToxiproxyOps;
  try {
    const tries = undo.embedded ? 1 : undefined;
    ops = new ToxiproxyOps(
      undo.url,
      await reach(undo.url, { signal: ctx.signal, tries, timeoutMs: undo.timeoutMs }),
    );
  } catch (err) {
    if (!undo.embedded) throw err;
    ctx.log.info(
      { url: undo.url, revert: revert.description },
      "embedded toxiproxy is gone (its process ended), and its faults with it; nothing to revert",
    );
    return;
  }
  const gone: string[] = [];
  for (const { proxy, name } of undo.toxics) {
    if (!(await ops.removeToxic(proxy, name))) gone.push(`${name} on ${proxy}`);
  }
  for (const name of undo.enable) {
    const proxy = await ops.proxy(name);
    if (proxy && !proxy.enabled) await ops.setEnabled(proxy, true);
  }
  for (const name of undo.created) await ops.deleteProxy(name);
  if (gone.length === 0) return undefined;
  ctx.log.warn({ url: undo.url, toxics: gone }, "toxics already gone when reverted");
  // Another run or a person removed them (or their proxy) while the fault should have been live.
  return { note: `already gone, removed by someone else: ${gone.join(", ")}`, vanished: true };
}

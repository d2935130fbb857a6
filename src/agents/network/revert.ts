import { ChaosError } from "../../experiments/errors.js";
import type { RevertContext, RevertDescription, RevertNote } from "../agent.js";
import { findHelpers, readIdentity, stillSame, stopHelpers } from "../inside/index.js";
import { helpersFor, REVERT_KIND, type RemoveRulesData } from "./fault.js";
import { removeMetricsSockets } from "./interceptor.js";
import { removeQdiscs, tcIn } from "./qdisc.js";
import { iptablesIn, removeTagged } from "./rules.js";

/** @throws ChaosError("agent") when the entry is not what this agent writes. */
function readData(data: Record<string, unknown>): RemoveRulesData {
  const namespaces = Array.isArray(data.namespaces) ? data.namespaces.map(readIdentity) : [];
  if (
    typeof data.tag !== "string" ||
    !/^[\w.:-]+$/.test(data.tag) ||
    namespaces.length === 0 ||
    namespaces.some((n) => !n)
  ) {
    throw new ChaosError(
      "agent",
      "malformed network revert entry: expected tag and namespaces [{ pid, startTime, netns }]",
      {
        hint: "the ledger entry was not written by the network agent",
      },
    );
  }
  const labels = (data.namespaces as { label?: unknown }[]).map((n) =>
    typeof n.label === "string" ? n.label : "?",
  );
  return { tag: data.tag, namespaces: namespaces.map((n, i) => ({ ...n!, label: labels[i]! })) };
}

/**
 * Undoes one network fault: stops its helpers (each removes its own rules and closes its interceptor), then
 * removes any rule still tagged with the fault's tag, and a qdisc fault's root qdiscs that still carry its
 * handle (a helper killed without cleaning up leaves them) in
 * each recorded namespace — entered only when the recorded process still lives there, so a namespace reused
 * by someone else is never touched. Idempotent.
 * @throws ChaosError("agent") for another agent's entry, malformed data, or iptables failing.
 */
export async function revertNetworkFault(
  revert: RevertDescription,
  ctx: RevertContext,
): Promise<RevertNote | undefined> {
  if (revert.agent !== "network") {
    throw new ChaosError("agent", `the network agent cannot revert a fault of agent "${revert.agent}"`);
  }
  if (revert.kind !== REVERT_KIND) {
    throw new ChaosError("agent", `the network agent has no revert kind "${revert.kind}"`, {
      hint: `known kinds: ${REVERT_KIND}`,
    });
  }
  const { tag, namespaces } = readData(revert.data);
  const running = await helpersFor(ctx);
  const mine = running.get(tag) ?? [];
  running.delete(tag);
  const stopped = await Promise.all(mine.map((h) => h.stop(10_000)));
  const unclean = stopped.filter((s) => s.how === "killed" || s.code !== 0).length;
  // Helpers of a run that died (found by their tag, wherever they run), or of a run still alive (--force).
  const killed = await stopHelpers(await findHelpers(tag));
  await removeMetricsSockets(tag);
  const left: string[] = [];
  let removed = 0;
  let qdiscs = 0;
  for (const ns of namespaces) {
    if (!(await stillSame(ns))) {
      left.push(ns.label);
      continue;
    }
    removed += await removeTagged(tag, iptablesIn(ns.pid));
    // Only a qdisc fault adds one; any other leaves nothing with its handle.
    if (revert.data.qdisc) qdiscs += await removeQdiscs(tag, tcIn(ns.pid));
  }
  ctx.log.info({ tag, removed, qdiscs, unclean, killed: killed.length, left }, "network fault reverted");
  if (left.length === 0) return undefined;
  return {
    note: `the namespace of ${left.join(", ")} is gone or no longer the recorded one (its rules went with it, or it now belongs to another process): left alone`,
  };
}

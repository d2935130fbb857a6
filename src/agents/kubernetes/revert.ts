import { ChaosError, errorMessage } from "../../experiments/errors.js";
import type { RevertContext, RevertDescription, RevertNote } from "../agent.js";
import { KubeApiError } from "./call.js";
import { type Cluster, clusterFor } from "./cluster.js";
import type { ClusterRef } from "./config.js";
import { type InvolvedObject, nodeObject, podObject, REASONS, recordEvents } from "./events.js";
import { patchCordon, readNode } from "./node.js";
import { setReplicas, type Workload, workloadObject } from "./workload.js";

/** The revert kinds this agent writes to the ledger. */
export const REVERT_KINDS = ["scale", "delete-networkpolicy", "uncordon"] as const;

const isText = (v: unknown): v is string => typeof v === "string" && v.length > 0;

function malformed(kind: string, expected: string): ChaosError {
  return new ChaosError("agent", `malformed ${kind} entry: expected ${expected}`, {
    hint: "the ledger entry was not written by the kubernetes agent",
  });
}

function readRef(data: Record<string, unknown>, kind: string): ClusterRef {
  const c = data.cluster as Partial<ClusterRef> | undefined;
  if (!c || !isText(c.server)) throw malformed(kind, "cluster { server, kubeconfig?, context? }");
  return {
    server: c.server,
    kubeconfig: isText(c.kubeconfig) ? c.kubeconfig : undefined,
    context: isText(c.context) ? c.context : undefined,
  };
}

/**
 * Runs `fn` treating a 404 as done (what the revert would undo no longer exists).
 * @returns whether `fn` changed something (false when gone, or when it said so itself).
 */
async function unlessGone(what: string, ctx: RevertContext, fn: () => Promise<boolean>): Promise<boolean> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    ctx.log.info({ target: what }, "gone meanwhile; nothing to revert");
    return false;
  }
}

/**
 * Runs a revert and records its Event on the objects it restored: ChaosFaultReverted, or a Warning
 * ChaosFaultRevertFailed before the failure is rethrown. A failed Event only adds a note.
 */
async function withEvents(
  c: Cluster,
  ctx: RevertContext,
  objects: () => InvolvedObject[],
  what: string,
  fn: () => Promise<boolean>,
): Promise<RevertNote | undefined> {
  let changed: boolean;
  try {
    changed = await fn();
  } catch (err) {
    await recordEvents(c, ctx, objects(), {
      reason: REASONS.revertFailed,
      type: "Warning",
      what: `${what} failed: ${errorMessage(err)}`,
    });
    throw err;
  }
  if (!changed) return undefined;
  const note = await recordEvents(c, ctx, objects(), { reason: REASONS.reverted, what });
  return note ? { note } : undefined;
}

/** The pods a partition's revert data names (none in entries written before it named them). */
function podsOf(data: Record<string, unknown>): InvolvedObject[] {
  const pods = Array.isArray(data.pods) ? (data.pods as Record<string, unknown>[]) : [];
  return pods
    .filter((p) => isText(p?.namespace) && isText(p.name))
    .map((p) =>
      podObject({ namespace: p.namespace as string, name: p.name as string, uid: p.uid as string }),
    );
}

/**
 * Undoes one fault of the kubernetes agent, from the ledger's plain data (a fresh process has nothing else).
 * Idempotent; a target that is gone counts as reverted.
 * @throws ChaosError("agent") for another agent's entry, an unknown kind, malformed data, another cluster
 * behind the recorded kubeconfig, or a failed API call.
 */
export async function revertKubernetesFault(
  revert: RevertDescription,
  ctx: RevertContext,
): Promise<RevertNote | undefined> {
  if (revert.agent !== "kubernetes") {
    throw new ChaosError("agent", `the kubernetes agent cannot revert a fault of agent "${revert.agent}"`);
  }
  const d = revert.data;
  switch (revert.kind) {
    case "scale": {
      const w = d.workload as Partial<Workload> | undefined;
      if (
        !w ||
        !isText(w.namespace) ||
        !isText(w.name) ||
        (w.kind !== "deployment" && w.kind !== "statefulset") ||
        !Number.isInteger(d.replicas)
      ) {
        throw malformed("scale", "workload { kind, namespace, name } and replicas");
      }
      const c = await clusterFor(readRef(d, "scale"), ctx);
      let uid: string | undefined;
      const what = `kubernetes.scale reverted: scaled back to ${d.replicas} replicas`;
      return withEvents(
        c,
        ctx,
        () => [workloadObject(w as Workload, uid)],
        what,
        () =>
          unlessGone(`${w.kind} ${w.namespace}/${w.name}`, ctx, async () => {
            uid = await setReplicas(c, w as Workload, d.replicas as number, ctx.signal);
            return true;
          }),
      );
    }
    case "delete-networkpolicy": {
      if (!isText(d.namespace) || !isText(d.name))
        throw malformed("delete-networkpolicy", "namespace and name");
      const c = await clusterFor(readRef(d, "delete-networkpolicy"), ctx);
      const { namespace, name } = d as { namespace: string; name: string };
      const what = `kubernetes.partition reverted: NetworkPolicy ${name} deleted`;
      return withEvents(
        c,
        ctx,
        () => podsOf(d),
        what,
        () =>
          unlessGone(`networkpolicy ${namespace}/${name}`, ctx, async () => {
            await c.call({ verb: "delete", resource: "networkpolicies", namespace, name }, ctx.signal, (o) =>
              c.networking.deleteNamespacedNetworkPolicy({ name, namespace }, o),
            );
            return true;
          }),
      );
    }
    case "uncordon": {
      if (!isText(d.node) || !isText(d.runId)) throw malformed("uncordon", "node and runId");
      const c = await clusterFor(readRef(d, "uncordon"), ctx);
      const node = d.node;
      let uid: string | undefined;
      const what = "kubernetes.cordon reverted: node uncordoned (schedulable)";
      return withEvents(
        c,
        ctx,
        () => [nodeObject(node, uid)],
        what,
        () =>
          unlessGone(`node ${node}`, ctx, async () => {
            const now = await readNode(c, node, ctx.signal);
            uid = now.uid;
            if (!now.unschedulable || now.cordonedBy !== d.runId) {
              ctx.log.info(
                { node, cordonedBy: now.cordonedBy },
                "node not cordoned by this run; left as it is",
              );
              return false;
            }
            await patchCordon(c, node, null, ctx.signal);
            return true;
          }),
      );
    }
  }
  throw new ChaosError("agent", `the kubernetes agent has no revert kind "${revert.kind}"`, {
    hint: `known kinds: ${REVERT_KINDS.join(", ")}`,
  });
}

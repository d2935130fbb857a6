import { ChaosError } from "../../experiments/errors.js";
import type { RevertContext, RevertDescription } from "../agent.js";
import { KubeApiError } from "./call.js";
import { clusterFor } from "./cluster.js";
import type { ClusterRef } from "./config.js";
import { patchCordon, readNode } from "./node.js";
import { setReplicas, type Workload } from "./workload.js";

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

/** Treats a 404 as done: what the revert would undo no longer exists. */
async function unlessGone(what: string, ctx: RevertContext, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    ctx.log.info({ target: what }, "gone meanwhile; nothing to revert");
  }
}

/**
 * Undoes one fault of the kubernetes agent, from the ledger's plain data (a fresh process has nothing else).
 * Idempotent; a target that is gone counts as reverted.
 * @throws ChaosError("agent") for another agent's entry, an unknown kind, malformed data, another cluster
 * behind the recorded kubeconfig, or a failed API call.
 */
export async function revertKubernetesFault(revert: RevertDescription, ctx: RevertContext): Promise<void> {
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
      return unlessGone(`${w.kind} ${w.namespace}/${w.name}`, ctx, () =>
        setReplicas(c, w as Workload, d.replicas as number, ctx.signal),
      );
    }
    case "delete-networkpolicy": {
      if (!isText(d.namespace) || !isText(d.name))
        throw malformed("delete-networkpolicy", "namespace and name");
      const c = await clusterFor(readRef(d, "delete-networkpolicy"), ctx);
      const { namespace, name } = d as { namespace: string; name: string };
      return unlessGone(`networkpolicy ${namespace}/${name}`, ctx, async () => {
        await c.call({ verb: "delete", resource: "networkpolicies", namespace, name }, ctx.signal, (o) =>
          c.networking.deleteNamespacedNetworkPolicy({ name, namespace }, o),
        );
      });
    }
    case "uncordon": {
      if (!isText(d.node) || !isText(d.runId)) throw malformed("uncordon", "node and runId");
      const c = await clusterFor(readRef(d, "uncordon"), ctx);
      const node = d.node;
      return unlessGone(`node ${node}`, ctx, async () => {
        const now = await readNode(c, node, ctx.signal);
        if (!now.unschedulable || now.cordonedBy !== d.runId) {
          ctx.log.info({ node, cordonedBy: now.cordonedBy }, "node not cordoned by this run; left as it is");
          return;
        }
        await patchCordon(c, node, null, ctx.signal);
      });
    }
  }
  throw new ChaosError("agent", `the kubernetes agent has no revert kind "${revert.kind}"`, {
    hint: `known kinds: ${REVERT_KINDS.join(", ")}`,
  });
}

import { PATCH } from "./client.js";
import type { Cluster } from "./cluster.js";

/** The annotation naming the run that cordoned a node: uncordon only what this toolkit run cordoned. */
export const CORDONED_BY = "chaoskit.io/cordoned-by";

/**
 * Whether the node is cordoned, and by which run; its uid.
 * @throws KubeApiError (404 when the node does not exist).
 */
export async function readNode(
  c: Cluster,
  name: string,
  signal: AbortSignal,
): Promise<{ unschedulable: boolean; cordonedBy?: string; uid?: string }> {
  const node = await c.call({ verb: "get", resource: "nodes", name }, signal, (o) =>
    c.core.readNode({ name }, o),
  );
  return {
    unschedulable: node.spec?.unschedulable === true,
    cordonedBy: node.metadata?.annotations?.[CORDONED_BY],
    uid: node.metadata?.uid,
  };
}

/**
 * Marks the node unschedulable and names the run in an annotation (a strategic merge patch, as kubectl does);
 * `cordon: false` clears both.
 * @throws KubeApiError
 */
export async function patchCordon(
  c: Cluster,
  name: string,
  runId: string | null,
  signal: AbortSignal,
): Promise<void> {
  const body = runId
    ? { metadata: { annotations: { [CORDONED_BY]: runId } }, spec: { unschedulable: true } }
    : { metadata: { annotations: { [CORDONED_BY]: null } }, spec: { unschedulable: null } };
  await c.call(
    { verb: "patch", resource: "nodes", name },
    signal,
    (o) => c.core.patchNode({ name, body }, o),
    {
      "Content-Type": runId ? PATCH.strategic : PATCH.merge,
    },
  );
}

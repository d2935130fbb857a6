import type { RequestOptions } from "./call.js";
import { PATCH } from "./client.js";
import type { Cluster } from "./cluster.js";
import type { InvolvedObject } from "./events.js";

/** A Deployment or a StatefulSet: the workloads `scale` acts on, through their `scale` subresource. */
export type WorkloadKind = "deployment" | "statefulset";

export interface Workload {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

const RESOURCE: Record<WorkloadKind, string> = { deployment: "deployments", statefulset: "statefulsets" };

/** "deployment shop/orders" */
export const describeWorkload = (w: Workload) => `${w.kind} ${w.namespace}/${w.name}`;

/** The workload as an Event's involved object (a Scale's metadata is its workload's: same uid). */
export const workloadObject = (w: Workload, uid?: string): InvolvedObject => ({
  kind: w.kind === "deployment" ? "Deployment" : "StatefulSet",
  apiVersion: "apps/v1",
  namespace: w.namespace,
  name: w.name,
  ...(uid ? { uid } : {}),
});

/**
 * The replicas the workload's scale subresource reports, and the workload's uid.
 * @throws KubeApiError (404 when the workload does not exist).
 */
export async function readReplicas(
  c: Cluster,
  w: Workload,
  signal: AbortSignal,
): Promise<{ replicas: number; uid?: string }> {
  const args = { name: w.name, namespace: w.namespace };
  const spec = { verb: "get", resource: `${RESOURCE[w.kind]}/scale`, ...args } as const;
  const scale = await c.call(spec, signal, (o: RequestOptions) =>
    w.kind === "deployment"
      ? c.apps.readNamespacedDeploymentScale(args, o)
      : c.apps.readNamespacedStatefulSetScale(args, o),
  );
  return { replicas: scale.spec?.replicas ?? 0, uid: scale.metadata?.uid };
}

/**
 * Sets the replicas through the scale subresource (a merge patch, as `kubectl scale` does).
 * @returns the workload's uid, as the answer carries it.
 * @throws KubeApiError (404 when the workload does not exist).
 */
export async function setReplicas(
  c: Cluster,
  w: Workload,
  replicas: number,
  signal: AbortSignal,
): Promise<string | undefined> {
  const args = { name: w.name, namespace: w.namespace, body: { spec: { replicas } } };
  const spec = {
    verb: "patch",
    resource: `${RESOURCE[w.kind]}/scale`,
    name: w.name,
    namespace: w.namespace,
  } as const;
  const scale = await c.call(
    spec,
    signal,
    (o) =>
      w.kind === "deployment"
        ? c.apps.patchNamespacedDeploymentScale(args, o)
        : c.apps.patchNamespacedStatefulSetScale(args, o),
    { "Content-Type": PATCH.merge },
  );
  return scale.metadata?.uid;
}

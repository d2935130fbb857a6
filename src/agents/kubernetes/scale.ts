import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition, RevertDescription } from "../agent.js";
import { type Cluster, cluster } from "./cluster.js";
import { REASONS, recordEvents } from "./events.js";
import { assertNotProtected } from "./target.js";
import { describeWorkload, readReplicas, setReplicas, type Workload, workloadObject } from "./workload.js";

const NAME = { type: "string", minLength: 1, maxLength: 253 };

/** The workload a `scale` acts on: a namespace and exactly one of `deployment` or `statefulset`. */
export const workloadTargetSchema = {
  type: "object",
  additionalProperties: false,
  required: ["namespace"],
  properties: {
    namespace: NAME,
    deployment: NAME,
    statefulset: NAME,
    "allow-protected": { type: "boolean", default: false, description: "act in a protected namespace" },
  },
  oneOf: ["deployment", "statefulset"].map((k) => ({ required: [k], properties: { [k]: true } })),
};

/** Reads a validated workload target. */
export function readWorkload(raw: Record<string, unknown>): Workload {
  const kind = raw.deployment !== undefined ? "deployment" : "statefulset";
  return { kind, namespace: raw.namespace as string, name: (raw.deployment ?? raw.statefulset) as string };
}

const KIND = { deployment: "Deployment", statefulset: "StatefulSet" } as const;

/**
 * The HorizontalPodAutoscalers (autoscaling/v2) whose scaleTargetRef is the workload: each rewrites the
 * replicas within its sync period (15 s by default), so a scale fault would silently stop being one.
 * @throws KubeApiError when they cannot be listed (a run that cannot see them does not scale blind).
 */
async function autoscalersOf(c: Cluster, w: Workload, signal: AbortSignal): Promise<string[]> {
  const list = await c.call(
    { verb: "list", resource: "horizontalpodautoscalers", namespace: w.namespace },
    signal,
    (o) => c.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: w.namespace }, o),
  );
  return (list.items ?? [])
    .filter((h) => h.spec?.scaleTargetRef?.kind === KIND[w.kind] && h.spec.scaleTargetRef.name === w.name)
    .map((h) => h.metadata?.name ?? "");
}

/**
 * Scales a Deployment or StatefulSet to `replicas`; the revert scales it back to the replicas it had when the
 * fault was prepared (read, not assumed, and recorded before anything changes).
 */
export const scaleAction: ActionDefinition = {
  name: "scale",
  description: "scale a Deployment or StatefulSet to N replicas; reverted to the replicas it had",
  target: workloadTargetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    required: ["replicas"],
    properties: {
      replicas: { type: "integer", minimum: 0, maximum: 10_000 },
      force: {
        type: "boolean",
        default: false,
        description: "scale even when a HorizontalPodAutoscaler manages the workload (it will scale it back)",
      },
    },
  },
  /**
   * @throws ChaosError("invalid") for a protected namespace; ChaosError("agent") when the workload does not
   * exist or cannot be read, or an autoscaler manages it (unless `force`).
   */
  async prepare(input, ctx) {
    const c = await cluster(ctx);
    const w = readWorkload(input.target);
    assertNotProtected(w.namespace, input.target["allow-protected"] === true, c.config.protectedNamespaces);
    const replicas = input.args.replicas as number;
    const { replicas: previous, uid } = await readReplicas(c, w, ctx.signal);
    const autoscalers = await autoscalersOf(c, w, ctx.signal);
    if (autoscalers.length && input.args.force !== true) {
      throw new ChaosError(
        "agent",
        `${describeWorkload(w)} is scaled by HorizontalPodAutoscaler ${autoscalers.join(", ")}, which would overwrite the fault within about 15 s; nothing was touched`,
        { hint: "target a workload no autoscaler manages, or set force: true in args to scale it anyway" },
      );
    }
    const revert: RevertDescription = {
      agent: "kubernetes",
      kind: "scale",
      description: `scale ${describeWorkload(w)} back to ${previous} replicas`,
      data: { cluster: { ...c.ref }, workload: { ...w }, replicas: previous },
    };
    return {
      revert,
      locks: [c.lockKey(w.kind, w.namespace, w.name)],
      async apply() {
        await setReplicas(c, w, replicas, ctx.signal);
        ctx.log.info({ workload: describeWorkload(w), from: previous, to: replicas }, "scaled");
        const events = await recordEvents(c, ctx, [workloadObject(w, uid)], {
          reason: REASONS.applied,
          what: `kubernetes.scale: scaled from ${previous} to ${replicas} replicas`,
        });
        return {
          ...(events ? { events } : {}),
          from: previous,
          to: replicas,
          ...(autoscalers.length
            ? {
                warning: `managed by HorizontalPodAutoscaler ${autoscalers.join(", ")}: it may scale it back`,
              }
            : {}),
        };
      },
    };
  },
};

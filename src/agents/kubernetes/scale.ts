import type { ActionDefinition, RevertDescription } from "../agent.js";
import { cluster } from "./cluster.js";
import { assertNotProtected } from "./target.js";
import { describeWorkload, readReplicas, setReplicas, type Workload } from "./workload.js";

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
    properties: { replicas: { type: "integer", minimum: 0, maximum: 10_000 } },
  },
  /**
   * @throws ChaosError("invalid") for a protected namespace; ChaosError("agent") when the workload does not
   * exist or cannot be read.
   */
  async prepare(input, ctx) {
    const c = await cluster(ctx);
    const w = readWorkload(input.target);
    assertNotProtected(w.namespace, input.target["allow-protected"] === true, c.config.protectedNamespaces);
    const replicas = input.args.replicas as number;
    const previous = await readReplicas(c, w, ctx.signal);
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
        return { from: previous, to: replicas };
      },
    };
  },
};

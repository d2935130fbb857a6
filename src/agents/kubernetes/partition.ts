import { createHash } from "node:crypto";
import type { V1NetworkPolicy } from "@kubernetes/client-node";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition, JsonSchema, RevertDescription } from "../agent.js";
import { KubeApiError } from "./call.js";
import { cluster } from "./cluster.js";
import { toLabelSelector } from "./selector.js";
import { assertNotProtected, describePods, listPods, podMatchProperties, readPodTarget } from "./target.js";

const selectorOnly = ["labels", "selector"].map((k) => ({ required: [k], properties: { [k]: true } }));

const peerSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: { labels: podMatchProperties.labels!, selector: podMatchProperties.selector! },
  anyOf: selectorOnly,
  description: "pods (in the same namespace) still allowed to talk with the isolated ones",
};

/** Marks the policies the toolkit creates, so that an operator can find (and remove) them by label. */
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "chaoskit" };

/**
 * Isolates the pods a label selector matches with a NetworkPolicy that allows no ingress, no egress, or
 * neither — except with the pods `from` names. The revert deletes the policy. Takes effect only where the
 * cluster's network plugin enforces NetworkPolicies.
 */
export const partitionAction: ActionDefinition = {
  name: "partition",
  description:
    "isolate the matching pods with a NetworkPolicy (ingress, egress or both); reverted by deleting it",
  target: {
    type: "object",
    additionalProperties: false,
    required: ["namespace"],
    properties: {
      namespace: podMatchProperties.namespace!,
      labels: podMatchProperties.labels!,
      selector: podMatchProperties.selector!,
      "allow-protected": { type: "boolean", default: false, description: "act in a protected namespace" },
    },
    anyOf: selectorOnly,
  },
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      direction: { enum: ["ingress", "egress", "both"], default: "both" },
      from: peerSchema,
    },
  },
  /**
   * @throws ChaosError("invalid") for a protected namespace or an unreadable selector; ChaosError("agent")
   * when no pod matches or the pods cannot be listed.
   */
  async prepare(input, ctx) {
    const c = await cluster(ctx);
    const t = readPodTarget(input.target);
    assertNotProtected(t.namespace, t.allowProtected, c.config.protectedNamespaces);
    const direction = (input.args.direction as string | undefined) ?? "both";
    const from = input.args.from as { labels?: Record<string, string>; selector?: string } | undefined;
    const podSelector = toLabelSelector(t.labels, t.selector);
    const peer = from ? [{ podSelector: toLabelSelector(from.labels, from.selector) }] : undefined;
    const pods = (await listPods(c, t, ctx.signal, { metadataOnly: true })).filter((p) => !p.terminating);
    if (pods.length === 0) {
      throw new ChaosError("agent", `no pod matches ${describePods(t)}`, {
        hint: "check the namespace and labels; nothing was touched",
      });
    }
    const digest = createHash("sha256")
      .update(JSON.stringify([ctx.runId, t.namespace, podSelector, direction, from ?? null]))
      .digest("hex")
      .slice(0, 10);
    const name = `chaoskit-partition-${digest}`;
    const ingress = direction !== "egress";
    const egress = direction !== "ingress";
    const policy: V1NetworkPolicy = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: {
        name,
        namespace: t.namespace,
        labels: { ...MANAGED_BY },
        annotations: { "chaoskit.io/run": ctx.runId },
      },
      spec: {
        podSelector,
        policyTypes: [...(ingress ? ["Ingress"] : []), ...(egress ? ["Egress"] : [])],
        ...(ingress ? { ingress: peer ? [{ _from: peer }] : [] } : {}),
        ...(egress ? { egress: peer ? [{ to: peer }] : [] } : {}),
      },
    };
    const revert: RevertDescription = {
      agent: "kubernetes",
      kind: "delete-networkpolicy",
      description: `delete NetworkPolicy ${t.namespace}/${name} (partition of ${pods.length} pods)`,
      data: { cluster: { ...c.ref }, namespace: t.namespace, name },
    };
    return {
      revert,
      locks: [
        c.lockKey("networkpolicy", t.namespace, name),
        ...pods.map((p) => c.lockKey("pod", p.namespace, p.name)),
      ],
      async apply() {
        try {
          await c.call(
            { verb: "create", resource: "networkpolicies", namespace: t.namespace },
            ctx.signal,
            (o) => c.networking.createNamespacedNetworkPolicy({ namespace: t.namespace, body: policy }, o),
          );
        } catch (err) {
          // Applying twice equals once: the name is derived from the run and the fault.
          if (!(err instanceof KubeApiError && err.status === 409)) throw err;
        }
        ctx.log.info(
          { policy: `${t.namespace}/${name}`, direction, pods: pods.length },
          "partition in place",
        );
        return { policy: name, direction, pods: pods.length };
      },
    };
  },
};

import { createHash } from "node:crypto";
import type { V1NetworkPolicy, V1NetworkPolicyEgressRule } from "@kubernetes/client-node";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition, JsonSchema, RevertDescription } from "../agent.js";
import { KubeApiError } from "./call.js";
import { type Cluster, cluster } from "./cluster.js";
import { EVENTS_PER_FAULT, podObject, REASONS, recordEvents } from "./events.js";
import { selectorMatches, toLabelSelector } from "./selector.js";
import {
  assertNotProtected,
  describePods,
  listPods,
  type PodInfo,
  podMatchProperties,
  readPodTarget,
} from "./target.js";

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

/** DNS stays open to an egress partition unless told otherwise: without it every lookup fails first. */
const DNS_EGRESS: V1NetworkPolicyEgressRule = {
  to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};

/**
 * Other NetworkPolicies that select some of the pods and allow traffic in a direction the partition closes.
 * Policies add up: whatever any of them allows is allowed, so each of these may let traffic through.
 * @throws KubeApiError when the policies cannot be listed.
 */
async function overlappingPolicies(
  c: Cluster,
  namespace: string,
  pods: PodInfo[],
  directions: { ingress: boolean; egress: boolean },
  signal: AbortSignal,
): Promise<string[]> {
  const list = await c.call({ verb: "list", resource: "networkpolicies", namespace }, signal, (o) =>
    c.networking.listNamespacedNetworkPolicy({ namespace }, o),
  );
  return (list.items ?? [])
    .filter(
      (p) =>
        p.metadata?.labels?.["app.kubernetes.io/managed-by"] !== MANAGED_BY["app.kubernetes.io/managed-by"],
    )
    .filter((p) => pods.some((pod) => selectorMatches(p.spec?.podSelector, pod.labels)))
    .filter((p) => {
      const types = p.spec?.policyTypes ?? ["Ingress", ...(p.spec?.egress ? ["Egress"] : [])];
      const allowsIn = types.includes("Ingress") && (p.spec?.ingress ?? []).length > 0;
      const allowsOut = types.includes("Egress") && (p.spec?.egress ?? []).length > 0;
      return (directions.ingress && allowsIn) || (directions.egress && allowsOut);
    })
    .map((p) => p.metadata?.name ?? "");
}

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
      "allow-dns": {
        type: "boolean",
        default: true,
        description: "keep DNS (kube-dns, port 53 UDP and TCP) open to an egress partition",
      },
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
    const allowDns = egress && input.args["allow-dns"] !== false;
    const others = await overlappingPolicies(c, t.namespace, pods, { ingress, egress }, ctx.signal);
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
        ...(egress ? { egress: [...(peer ? [{ to: peer }] : []), ...(allowDns ? [DNS_EGRESS] : [])] } : {}),
      },
    };
    const revert: RevertDescription = {
      agent: "kubernetes",
      kind: "delete-networkpolicy",
      description: `delete NetworkPolicy ${t.namespace}/${name} (partition of ${pods.length} pods)`,
      // The pods, for the Events of the revert (the first ones only: see events.ts).
      data: {
        cluster: { ...c.ref },
        namespace: t.namespace,
        name,
        pods: pods
          .slice(0, EVENTS_PER_FAULT)
          .map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid })),
      },
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
        const warnings = [
          ...(others.length
            ? [
                `NetworkPolicy ${others.join(", ")} also selects these pods and allows traffic: policies add up, so it may pass through the partition`,
              ]
            : []),
        ];
        ctx.log.info(
          { policy: `${t.namespace}/${name}`, direction, pods: pods.length, overlapping: others },
          "partition policy created",
        );
        for (const w of warnings) ctx.log.warn({ policy: `${t.namespace}/${name}` }, w);
        const events = await recordEvents(c, ctx, pods.map(podObject), {
          reason: REASONS.applied,
          what: `kubernetes.partition: pod isolated (${direction}) by NetworkPolicy ${name}`,
        });
        return {
          ...(events ? { events } : {}),
          policy: name,
          direction,
          pods: pods.length,
          ...(allowDns ? { dns: "allowed" } : {}),
          // The API server accepts a policy whether or not the network plugin enforces it.
          verified: false,
          note: "not verified here: a NetworkPolicy takes effect only where the network plugin enforces it; a hypothesis probe across the partition shows whether it holds",
          ...(warnings.length ? { warnings } : {}),
        };
      },
    };
  },
};

import type { Agent } from "../agent.js";
import { cluster } from "./cluster.js";
import { configurationSchema } from "./config.js";
import { cordonAction } from "./cordon.js";
import { partitionAction } from "./partition.js";
import { withTargets } from "./plan.js";
import { podKillAction } from "./pod-kill.js";
import { podLogsProbe } from "./pod-logs.js";
import { deploymentProbe, podsProbe, podsReadyProbe, restartsProbe } from "./probes.js";
import { revertKubernetesFault } from "./revert.js";
import { scaleAction } from "./scale.js";

/**
 * Pods, workloads, network policies and nodes of a Kubernetes cluster, through @kubernetes/client-node.
 *
 *   target { namespace, labels | selector | fields | names, select } ──list (paged)──▶ pods ──▶ select
 *        ──▶ PreparedFault { revert (cluster ref + plain data), locks } ──ledger──▶ apply (bounded, retried)
 *
 * Every call has a deadline and observes the run's signal; every client error becomes ChaosError("agent").
 */
export const kubernetesAgent: Agent = {
  name: "kubernetes",
  description:
    "kill pods, scale workloads, partition pods with NetworkPolicies, cordon nodes; probe readiness, phases, conditions and logs",
  configuration: configurationSchema,
  actions: {
    "pod-kill": withTargets(podKillAction),
    scale: withTargets(scaleAction),
    partition: withTargets(partitionAction),
    cordon: withTargets(cordonAction),
  },
  probes: {
    "pods-ready": podsReadyProbe,
    pods: podsProbe,
    deployment: deploymentProbe,
    restarts: restartsProbe,
    "pod-logs": podLogsProbe,
  },
  revert: revertKubernetesFault,
  // The cluster a kubeconfig resolves to is easy to get wrong (several files, a changed current-context):
  // say it before anything is touched.
  async whereItActs(ctx) {
    const c = await cluster(ctx);
    return `cluster ${c.ref.server}, context ${c.ref.context ?? "(none)"}`;
  },
};

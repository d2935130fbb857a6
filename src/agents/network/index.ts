import type { Agent } from "../agent.js";
import { chaosEntry, requireInsideTools } from "../inside/index.js";
import { withPodRevert } from "../kubernetes/ephemeral.js";
import { lossAction, partitionAction } from "./partition.js";
import { revertNetworkFault } from "./revert.js";
import { netemAction, withTbf } from "./shaping.js";
import { interceptActions } from "./toxics.js";

/**
 * Network faults inside a target's own network namespace (a process, or a container's init process):
 *   - interception: nat rules redirect the target's connections into an interceptor in its namespace that
 *     applies the embedded proxy's toxics (latency, bandwidth, slicer, timeout, reset-peer, limit-data, …);
 *   - packets: partition (DROP / REJECT) and loss (statistic) as filter rules;
 *   - qdiscs: bandwidth via tbf, and netem where the kernel has sch_netem (refused at the preflight elsewhere).
 * Each fault runs as a helper (`chaos intercept`) entered with nsenter: a dead man's switch that removes its
 * rules when the run ends or dies, at its deadline, or on SIGTERM. Rules carry the run id in a comment.
 */
const intercepted = interceptActions();

export const networkAgent: Agent = {
  name: "network",
  description:
    "latency and every proxy toxic by interception, partition and loss, tbf and netem, inside a process's or container's network namespace",
  actions: {
    ...intercepted,
    bandwidth: withTbf(intercepted.bandwidth!),
    partition: partitionAction,
    loss: lossAction,
    netem: netemAction,
  },
  probes: {},
  // Before the steady state: without iptables, nsenter or root, exit 4 with nothing touched.
  async prepareRun() {
    await requireInsideTools("the network agent", ["iptables", "iptables-save", "nsenter"]);
    chaosEntry();
  },
  revert: withPodRevert(revertNetworkFault),
};

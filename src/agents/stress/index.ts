import type { Agent } from "../agent.js";
import { withPodRevert } from "../kubernetes/ephemeral.js";
import { withPodStress } from "../kubernetes/pod-faults.js";
import { cpuAction } from "./cpu.js";
import { diskAction } from "./disk.js";
import { memoryAction } from "./memory.js";
import { cpuUsageProbe, memoryUsageProbe } from "./probes.js";
import { revertStressFault } from "./revert.js";

/**
 * Resource pressure on the host, a process or a container: a stressor (`chaos stress`, a child of the run)
 * burns CPU, holds memory or fills a disk, inside the target's cgroups so that it competes within the same
 * limits. It is a dead man's switch: it stops when the run's pipe closes or at its deadline. Probes read
 * the target's cgroup counters.
 */
export const stressAgent: Agent = {
  name: "stress",
  description:
    "burn CPU, hold memory or fill a disk inside a process's or container's cgroup (or on the host)",
  actions: withPodStress({ cpu: cpuAction, memory: memoryAction, disk: diskAction }),
  probes: { "cpu-usage": cpuUsageProbe, "memory-usage": memoryUsageProbe },
  revert: withPodRevert(revertStressFault),
};

import { sleep } from "../../experiments/clock.js";
import { durationOf, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ProbeDefinition, ProbeResult } from "../agent.js";
import { isPodTarget } from "../kubernetes/ephemeral.js";
import { type PodUsage, podUsage } from "../kubernetes/pod-usage.js";
import { formatBytes } from "./quantity.js";
import { resolveStressTarget, targetSchema } from "./target.js";
import { targetCores, targetCpuSeconds, targetMemory } from "./usage.js";

const seenBy = (u: PodUsage) => `metrics API, ${u.window ? `${u.window} window ` : ""}at ${u.timestamp}`;

/** A pod's CPU from the metrics API: cores over metrics-server's window; percent of its limit, if it has one. */
function podCpu(u: PodUsage): ProbeResult {
  const value = Math.round(u.cores * 1000) / 1000;
  const percent = u.cpuLimit ? Math.round((u.cores / u.cpuLimit) * 1000) / 10 : undefined;
  return {
    value,
    fields: {
      cores: value,
      ...(percent !== undefined ? { percent, limit: u.cpuLimit } : {}),
      limited: u.cpuLimit !== undefined,
      ...(u.window ? { window: u.window } : {}),
      timestamp: u.timestamp,
    },
    summary: `${value.toFixed(2)} cores in ${u.label}${percent !== undefined ? ` (${percent.toFixed(0)}% of its limit of ${u.cpuLimit} cores)` : " (no limit)"}; ${seenBy(u)}`,
  };
}

/** A pod's working set from the metrics API; percent of its limit, if it has one. */
function podMemory(u: PodUsage): ProbeResult {
  const percent = u.memoryLimit ? Math.round((u.bytes / u.memoryLimit) * 1000) / 10 : undefined;
  return {
    value: u.bytes,
    fields: {
      bytes: u.bytes,
      ...(percent !== undefined ? { percent, limit: u.memoryLimit } : {}),
      timestamp: u.timestamp,
    },
    summary: `${formatBytes(u.bytes)} in ${u.label}${percent !== undefined ? ` (${percent.toFixed(0)}% of ${formatBytes(u.memoryLimit!)})` : " (no limit)"}; ${seenBy(u)}`,
  };
}

/**
 * CPU the target used over a short window, from its cgroup's counter (cpuacct.usage in v1, cpu.stat in v2),
 * or the machine's for the host. `value` is in cores (0.5 = half a core, as `kubectl top` shows 500m);
 * `percent` is of the target's CPU limit, or of all cores when it has none. A pod's comes from the
 * metrics API (kubernetes/pod-usage.ts), over metrics-server's window rather than `window`.
 */
export const cpuUsageProbe: ProbeDefinition = {
  name: "cpu-usage",
  description:
    "cores the target (its cgroup, the host, or a pod through the metrics API) used over a window; fields percent (of its limit), limit",
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      target: targetSchema,
      window: durationOf("interval", "how long to measure (default 1s; a pod's window is the metrics API's)"),
    },
  },
  /**
   * @throws ChaosError("agent") when the target cannot be found or its cgroup has no CPU counter, or a pod's
   * usage cannot be seen through the metrics API.
   */
  async run(args, ctx) {
    if (isPodTarget(args.target as Record<string, unknown> | undefined))
      return podCpu(await podUsage((args.target as { pod: Record<string, unknown> }).pod, ctx));
    const target = await resolveStressTarget(args.target as Record<string, unknown> | undefined, ctx, []);
    const windowMs = args.window === undefined ? 1000 : parseDuration(args.window, "interval");
    const start = Date.now();
    const before = await targetCpuSeconds(target);
    await sleep(windowMs, ctx.signal);
    const after = await targetCpuSeconds(target);
    if (before === undefined || after === undefined) {
      throw new ChaosError("agent", `cannot read the CPU usage of ${target.label}`, {
        hint: "its cgroup has no cpuacct (v1) or cpu.stat (v2) counter",
      });
    }
    const cores = (after - before) / ((Date.now() - start) / 1000);
    const { cores: limit, limited } = await targetCores(target);
    const percent = (cores / limit) * 100;
    const value = Math.round(cores * 1000) / 1000;
    return {
      value,
      fields: { cores: value, percent: Math.round(percent * 10) / 10, limit, limited },
      summary: `${value.toFixed(2)} cores (${percent.toFixed(0)}% of ${limited ? "its limit of " : ""}${limit} ${limited ? "cores" : "cores on the machine"})`,
    };
  },
};

/**
 * Memory the target holds: its cgroup's working set (usage minus inactive file cache), or the machine's
 * used memory for the host, or a pod's from the metrics API. `value` is in bytes; `percent` is of its limit,
 * or of the machine's memory.
 */
export const memoryUsageProbe: ProbeDefinition = {
  name: "memory-usage",
  description:
    "bytes the target (its cgroup, the host, or a pod through the metrics API) holds; fields percent (of its limit), limit, usage",
  args: { type: "object", additionalProperties: false, properties: { target: targetSchema } },
  /**
   * @throws ChaosError("agent") when the target cannot be found or its memory cannot be read, or a pod's
   * usage cannot be seen through the metrics API.
   */
  async run(args, ctx) {
    if (isPodTarget(args.target as Record<string, unknown> | undefined))
      return podMemory(await podUsage((args.target as { pod: Record<string, unknown> }).pod, ctx));
    const target = await resolveStressTarget(args.target as Record<string, unknown> | undefined, ctx, []);
    const memory = await targetMemory(target);
    if (!memory) {
      throw new ChaosError("agent", `cannot read the memory of ${target.label}`, {
        hint: "its cgroup has no memory controller enabled",
      });
    }
    const percent = memory.limit ? (memory.workingSet / memory.limit) * 100 : undefined;
    return {
      value: memory.workingSet,
      fields: {
        bytes: memory.workingSet,
        usage: memory.usage,
        ...(memory.limit !== undefined ? { limit: memory.limit } : {}),
        ...(percent !== undefined ? { percent: Math.round(percent * 10) / 10 } : {}),
        ...(memory.oomKills !== undefined ? { oomKills: memory.oomKills } : {}),
      },
      summary:
        `${formatBytes(memory.workingSet)}` +
        (memory.limit !== undefined
          ? ` (${percent!.toFixed(0)}% of ${formatBytes(memory.limit)})`
          : " (no limit)"),
    };
  },
};

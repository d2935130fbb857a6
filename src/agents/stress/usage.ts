import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { cpuLimitCores, cpuSeconds, type MemoryReading, memoryOf } from "./cgroup.js";
import type { StressTarget } from "./target.js";

/**
 * What a target uses and may use: its cgroup's counters for a process or a container, the whole machine's
 * for the host.
 */

/** Clock ticks per second of /proc/stat (USER_HZ, 100 on every Linux architecture in use). */
const USER_HZ = 100;

/** CPU time every core spent not idle, in seconds, since boot. */
export async function hostCpuSeconds(): Promise<number | undefined> {
  try {
    const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
    const [, ...fields] = line.trim().split(/\s+/);
    const n = fields.map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already counted in user).
    const busy = (n[0] ?? 0) + (n[1] ?? 0) + (n[2] ?? 0) + (n[5] ?? 0) + (n[6] ?? 0) + (n[7] ?? 0);
    return busy / USER_HZ;
  } catch {
    return undefined;
  }
}

/** MemTotal and MemAvailable of /proc/meminfo, in bytes. */
export async function hostMemory(): Promise<{ total: number; available: number } | undefined> {
  try {
    const text = await readFile("/proc/meminfo", "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1]) * 1024;
    const total = kb("MemTotal");
    const available = kb("MemAvailable");
    return Number.isFinite(total) && Number.isFinite(available) ? { total, available } : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds the target used so far (its cgroup's, or the machine's). */
export async function targetCpuSeconds(target: StressTarget): Promise<number | undefined> {
  return target.kind === "host" ? hostCpuSeconds() : cpuSeconds(target.cgroups);
}

/** How many cores the target may use: its cgroup's quota, else every core of the machine. */
export async function targetCores(target: StressTarget): Promise<{ cores: number; limited: boolean }> {
  const limit = target.kind === "host" ? undefined : await cpuLimitCores(target.cgroups);
  return limit !== undefined
    ? { cores: limit, limited: true }
    : { cores: availableParallelism(), limited: false };
}

/** The target's memory: its cgroup's, or the machine's (used = total − available) for the host. */
export async function targetMemory(target: StressTarget): Promise<MemoryReading | undefined> {
  if (target.kind !== "host") return memoryOf(target.cgroups);
  const host = await hostMemory();
  if (!host) return undefined;
  const used = host.total - host.available;
  return { usage: used, workingSet: used, limit: host.total };
}

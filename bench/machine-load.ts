import { readFileSync } from "node:fs";
import os from "node:os";

/** Ticks per second of /proc/stat (USER_HZ, 100 on every Linux architecture). */
const USER_HZ = 100;

/**
 * CPU time the whole machine spent busy so far (all CPUs, all processes), in milliseconds. Linux's
 * /proc/stat also counts softirq (where loopback TCP does much of its work) and steal; os.cpus() omits both.
 */
function machineBusyMs(): number {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
      .slice(0, 200)
      .split("\n", 1)[0]!
      .trim()
      .split(/\s+/)
      .map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce((sum: number, n) => sum + (n ?? 0), 0);
    if (Number.isFinite(busy)) return (busy * 1000) / USER_HZ;
  } catch {
    // Not Linux: fall back to what libuv reports.
  }
  let busy = 0;
  for (const { times } of os.cpus()) busy += times.user + times.nice + times.sys + times.irq;
  return busy;
}

/**
 * Starts measuring how much CPU time the whole machine spends, so a benchmark can tell how much of it went
 * to other processes. Throws nothing.
 */
export function startMachineLoad(): { busyMs(): number } {
  const start = machineBusyMs();
  return { busyMs: () => machineBusyMs() - start };
}

/** CPU time (user + system) this process used since `since`, in milliseconds. */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
}

import { randomBytes } from "node:crypto";
import { readBootId, readStat } from "../agents/process/proc.js";

/**
 * What names one run's process for as long as the machine is up: a pid alone is reused by the kernel, so a
 * ledger entry or a lease also records the process's start time and the boot it belongs to, as the process
 * agent does for its targets. Both are absent where /proc is not readable; then the pid alone decides.
 */
export interface RunIdentity {
  pid: number;
  /** Clock ticks after boot when the process started (field 22 of /proc/<pid>/stat). */
  pidStartTime?: number;
  bootId?: string;
}

let self: Promise<RunIdentity> | undefined;

/** This process's identity (read once). */
export function currentRun(): Promise<RunIdentity> {
  self ??= (async () => {
    const [stat, bootId] = await Promise.all([readStat(process.pid), readBootId()]);
    return { pid: process.pid, pidStartTime: stat?.startTime, bootId };
  })();
  return self;
}

/** Whether a process with this pid exists at all (a process of another user counts). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether the recorded run is still alive: same boot, the pid exists, and it started at the recorded time.
 * A pid now held by another process (another start time) or a record from an earlier boot is a dead run.
 * A process that exists but cannot be inspected counts as alive: its faults are not ours to revert.
 */
export async function isRunAlive(run: RunIdentity): Promise<boolean> {
  if (!Number.isInteger(run.pid) || run.pid <= 0) return false;
  if (run.bootId) {
    const boot = await readBootId();
    if (boot && boot !== run.bootId) return false;
  }
  const stat = await readStat(run.pid);
  if (!stat) return pidExists(run.pid);
  if (stat.state === "Z" || stat.state === "X") return false;
  return run.pidStartTime === undefined || stat.startTime === run.pidStartTime;
}

/** A new run id: the UTC time to the second and 6 random hex digits, e.g. 20261207-031500-a1b2c3. */
export function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

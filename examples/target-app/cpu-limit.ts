import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cgroupMounts, cgroupsOf } from "../../src/agents/stress/cgroup.js";

/**
 * A CPU limit for one service of the sample app: a cgroup of its own (cpu and cpuacct in v1; the cpu
 * controller in v2 when no v1 hierarchy carries it) below the stack's own, with a quota of `cores`. A stress
 * fault on that service then competes inside the limit, as a noisy neighbour in the same container would.
 */
export interface CpuLimit {
  /** The cgroup folders the service is written into. */
  dirs: string[];
  cores: number;
  /** Moves a process (all its threads) in. */
  add(pid: number): Promise<void>;
  /** Removes the cgroup once the service is gone. Never throws. */
  remove(): Promise<void>;
}

const PERIOD_US = 100_000;

/**
 * Makes the cgroup `chaoskit-<name>-<pid>` with a CPU quota of `cores`.
 * @throws Error when cores is not positive, no cpu controller is mounted, or the cgroup cannot be made (not
 *   root).
 */
export async function makeCpuLimit(name: string, cores: number): Promise<CpuLimit> {
  if (!(cores > 0)) throw new Error(`a CPU limit must be a positive number of cores, not ${cores}`);
  const mounts = await cgroupMounts();
  const own = await cgroupsOf("self");
  const leaf = `chaoskit-${name}-${process.pid}`;
  const v1 = ["cpu", "cpuacct"].filter((c) => own.v1[c] && mounts.v1.has(c));
  const dirs = v1.length
    ? [...new Set(v1.map((c) => join(own.v1[c]!, leaf)))]
    : own.v2
      ? [join(own.v2, leaf)]
      : [];
  if (dirs.length === 0) throw new Error("no cgroup cpu controller is mounted (v1 or v2)");
  const quota = String(Math.max(1000, Math.round(cores * PERIOD_US)));
  const limit: CpuLimit = {
    dirs,
    cores,
    async add(pid) {
      for (const dir of dirs) await writeFile(join(dir, "cgroup.procs"), `${pid}\n`);
    },
    async remove() {
      for (const dir of dirs) {
        for (let i = 0; i < 40; i++) {
          const left = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
          if (
            left.trim() === "" &&
            (await rmdir(dir).then(
              () => true,
              () => false,
            ))
          )
            break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
  };
  try {
    for (const dir of dirs) await mkdir(dir);
    if (v1.length) {
      const cpu = join(own.v1.cpu!, leaf);
      await writeFile(join(cpu, "cpu.cfs_period_us"), String(PERIOD_US));
      await writeFile(join(cpu, "cpu.cfs_quota_us"), quota);
    } else {
      // v2: the parent must hand the cpu controller down.
      await writeFile(join(own.v2!, "cgroup.subtree_control"), "+cpu").catch(() => {});
      await writeFile(join(dirs[0]!, "cpu.max"), `${quota} ${PERIOD_US}`);
    }
  } catch (err) {
    await limit.remove();
    throw new Error(`cannot make a CPU-limited cgroup for ${name}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return limit;
}

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ChaosError } from "../../experiments/errors.js";

/**
 * Where a process sits in the cgroup hierarchies, and what those cgroups limit and count. Handles cgroup v1
 * (one hierarchy per controller, or several co-mounted), v2 (one unified hierarchy) and the hybrid layout
 * (v1 controllers plus an empty v2 hierarchy): a controller is read from v1 when a v1 hierarchy carries it,
 * else from v2.
 *
 *   /proc/<pid>/cgroup  "4:memory:/docker/ab…"   ─┐
 *   /proc/self/mountinfo "… /sys/fs/cgroup/memory … cgroup rw,memory" ─┴─▶ /sys/fs/cgroup/memory/docker/ab…
 */

export interface CgroupMount {
  /** Absolute mount point. */
  dir: string;
  /** The cgroup path mounted there (usually "/"). */
  root: string;
}

export interface CgroupMounts {
  /** v1 hierarchies by controller name (a co-mounted "cpu,cpuacct" appears under both). */
  v1: Map<string, CgroupMount>;
  v2?: CgroupMount;
}

/** The folders of one process's cgroups: one per v1 controller, and its v2 cgroup when v2 is mounted. */
export interface CgroupSet {
  v1: Record<string, string>;
  v2?: string;
  /** The v2 cgroup's path relative to the hierarchy ("/docker/ab…"), to name it in messages. */
  v2Path?: string;
  /** v1 paths by controller, relative to their hierarchy. */
  v1Paths: Record<string, string>;
}

/** Parses /proc/self/mountinfo text into the cgroup hierarchies mounted. */
export function parseMountinfo(text: string): CgroupMounts {
  const mounts: CgroupMounts = { v1: new Map() };
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const fields = left.split(" ");
    const [fstype, , superOptions] = right.split(" ");
    const root = unescapeMount(fields[3] ?? "/");
    const dir = unescapeMount(fields[4] ?? "");
    if (fstype === "cgroup2") mounts.v2 ??= { dir, root };
    else if (fstype === "cgroup") {
      for (const option of (superOptions ?? "").split(",")) {
        if (option === "rw" || option === "ro" || (option.includes("=") && !option.startsWith("name=")))
          continue;
        if (!mounts.v1.has(option)) mounts.v1.set(option, { dir, root });
      }
    }
  }
  return mounts;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Parses /proc/<pid>/cgroup: v1 lines by controller, and the v2 line ("0::/path"). */
export function parseProcCgroup(text: string): { v1: Record<string, string>; v2?: string } {
  const out: { v1: Record<string, string>; v2?: string } = { v1: {} };
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, path] = m;
    if (id === "0" && controllers === "") out.v2 = path!;
    else for (const c of controllers!.split(",")) if (c) out.v1[c] = path!;
  }
  return out;
}

function under(mount: CgroupMount, path: string): string {
  const rel = mount.root !== "/" && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return join(mount.dir, rel);
}

let mountsRead: Promise<CgroupMounts> | undefined;

/** The cgroup hierarchies this process sees (read once). */
export function cgroupMounts(): Promise<CgroupMounts> {
  mountsRead ??= readFile("/proc/self/mountinfo", "utf8").then(parseMountinfo, () => ({ v1: new Map() }));
  return mountsRead;
}

/**
 * The cgroup folders of a process.
 * @throws ChaosError("agent") when the process is gone or its cgroups cannot be read.
 */
export async function cgroupsOf(pid: number | "self"): Promise<CgroupSet> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/cgroup`, "utf8");
  } catch (err) {
    throw new ChaosError("agent", `cannot read the cgroups of pid ${pid}: ${(err as Error).message}`, {
      hint: "is the process still running? cgroups are a Linux feature",
      cause: err,
    });
  }
  return locate(parseProcCgroup(text), await cgroupMounts());
}

/** Maps the paths of /proc/<pid>/cgroup onto the mounted hierarchies. */
export function locate(paths: { v1: Record<string, string>; v2?: string }, mounts: CgroupMounts): CgroupSet {
  const set: CgroupSet = { v1: {}, v1Paths: {} };
  for (const [controller, path] of Object.entries(paths.v1)) {
    const mount = mounts.v1.get(controller);
    if (!mount) continue;
    set.v1[controller] = under(mount, path);
    set.v1Paths[controller] = path;
  }
  if (paths.v2 !== undefined && mounts.v2) {
    set.v2 = under(mounts.v2, paths.v2);
    set.v2Path = paths.v2;
  }
  return set;
}

/** Every distinct folder a process must be written into to sit exactly where the set says. */
export function joinDirs(set: CgroupSet): string[] {
  return [...new Set([...Object.values(set.v1), ...(set.v2 ? [set.v2] : [])])];
}

/**
 * Moves a process (and all its threads) into every cgroup of the set.
 * @throws ChaosError("agent") naming the folder that refused (not root, a v2 cgroup with children, gone).
 */
export async function joinCgroups(set: CgroupSet, pid: number): Promise<void> {
  for (const dir of joinDirs(set)) {
    try {
      await writeFile(join(dir, "cgroup.procs"), `${pid}\n`);
    } catch (err) {
      throw new ChaosError("agent", `cannot join the cgroup ${dir}: ${(err as Error).message}`, {
        hint: "joining another process's cgroup needs root (or the cgroup's owner)",
        cause: err,
      });
    }
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    return undefined;
  }
}

function keyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out.set(k, Number(v));
  }
  return out;
}

/** The folder of a v1 controller, or the v2 cgroup when no v1 hierarchy carries it. */
function controllerDir(set: CgroupSet, controller: string): { dir: string; v2: boolean } | undefined {
  const v1 = set.v1[controller];
  if (v1) return { dir: v1, v2: false };
  return set.v2 ? { dir: set.v2, v2: true } : undefined;
}

/** A number v1 writes as a huge value (or v2 as "max") when there is no limit. */
const NO_LIMIT = 2 ** 62;

/**
 * CPU time the cgroup used since it was created, in seconds; undefined when neither cpuacct (v1) nor cpu.stat
 * (v2) can be read.
 */
export async function cpuSeconds(set: CgroupSet): Promise<number | undefined> {
  const acct = set.v1.cpuacct;
  if (acct) {
    const ns = Number(await readText(join(acct, "cpuacct.usage")));
    if (Number.isFinite(ns)) return ns / 1e9;
  }
  if (set.v2) {
    const usec = keyed(await readText(join(set.v2, "cpu.stat"))).get("usage_usec");
    if (usec !== undefined) return usec / 1e6;
  }
  return undefined;
}

/** The CPU limit in cores (quota / period), or undefined when the cgroup sets none. */
export async function cpuLimitCores(set: CgroupSet): Promise<number | undefined> {
  const at = controllerDir(set, "cpu");
  if (!at) return undefined;
  if (at.v2) {
    const [quota, period] = ((await readText(join(at.dir, "cpu.max"))) ?? "max").split(/\s+/);
    if (!quota || quota === "max") return undefined;
    return Number(quota) / Number(period ?? 100000);
  }
  const quota = Number(await readText(join(at.dir, "cpu.cfs_quota_us")));
  const period = Number(await readText(join(at.dir, "cpu.cfs_period_us")));
  if (!Number.isFinite(quota) || quota <= 0 || !(period > 0)) return undefined;
  return quota / period;
}

export interface MemoryReading {
  /** All memory charged to the cgroup, page cache included. */
  usage: number;
  /** Usage minus inactive file cache: what the kernel cannot simply drop, as `docker stats` shows it. */
  workingSet: number;
  /** The hard limit, undefined when there is none. */
  limit?: number;
  /** How many times the kernel OOM-killed a process in it, when the kernel counts it. */
  oomKills?: number;
}

/** Memory of the cgroup; undefined when the memory controller cannot be read. */
export async function memoryOf(set: CgroupSet): Promise<MemoryReading | undefined> {
  const at = controllerDir(set, "memory");
  if (!at) return undefined;
  if (at.v2) {
    const usage = Number(await readText(join(at.dir, "memory.current")));
    if (!Number.isFinite(usage)) return undefined;
    const max = await readText(join(at.dir, "memory.max"));
    const stat = keyed(await readText(join(at.dir, "memory.stat")));
    const events = keyed(await readText(join(at.dir, "memory.events")));
    const limit = max === undefined || max === "max" ? undefined : Number(max);
    return {
      usage,
      workingSet: Math.max(0, usage - (stat.get("inactive_file") ?? 0)),
      limit: limit !== undefined && limit < NO_LIMIT ? limit : undefined,
      oomKills: events.get("oom_kill"),
    };
  }
  const usage = Number(await readText(join(at.dir, "memory.usage_in_bytes")));
  if (!Number.isFinite(usage)) return undefined;
  const limit = Number(await readText(join(at.dir, "memory.limit_in_bytes")));
  const stat = keyed(await readText(join(at.dir, "memory.stat")));
  const oom = keyed(await readText(join(at.dir, "memory.oom_control")));
  return {
    usage,
    workingSet: Math.max(0, usage - (stat.get("total_inactive_file") ?? 0)),
    limit: Number.isFinite(limit) && limit < NO_LIMIT ? limit : undefined,
    oomKills: oom.get("oom_kill"),
  };
}

/** The cgroup path to show for a controller: "/docker/ab…" (v1 or v2). */
export function pathOf(set: CgroupSet, controller: string): string | undefined {
  return set.v1Paths[controller] ?? set.v2Path;
}

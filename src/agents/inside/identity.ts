import { readFile, readlink } from "node:fs/promises";
import { readBootId, readStat } from "../process/proc.js";

/**
 * What makes one process inside a target unique, recorded in the ledger before anything is touched: the pid
 * alone may be reused, the pid with its start time and the boot names exactly one process, and the network
 * namespace's inode tells whether the namespace it lived in is still the one a revert means.
 */
export interface InsideIdentity {
  pid: number;
  /** Clock ticks after boot when the process started (field 22 of /proc/PID/stat). */
  startTime: number;
  /** The kernel's short name of the executable, safe to show (argv may hold secrets). */
  comm: string;
  bootId?: string;
  /** Inode of /proc/PID/ns/net: equal inodes at the same time are the same network namespace. */
  netns: number;
}

/** The cgroups a process belongs to: one path per v1 controller, and its v2 path when v2 is mounted. */
export interface Cgroups {
  /** Controller ("memory", "cpu,cpuacct", "name=systemd") ▶ path relative to that hierarchy's mount. */
  v1: Record<string, string>;
  /** The path in the unified hierarchy (`0::/…`), when the process has one. */
  v2?: string;
}

/** Parses `net:[4026531840]`, the link /proc/PID/ns/net points to. */
export function parseNamespaceLink(link: string): number | undefined {
  const m = /^\w+:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

/** The inode of a process's network namespace; `undefined` when the process is gone or hidden. */
export async function readNetns(pid: number | "self"): Promise<number | undefined> {
  try {
    return parseNamespaceLink(await readlink(`/proc/${pid}/ns/net`));
  } catch {
    return undefined;
  }
}

/** Parses the text of /proc/PID/cgroup (`hierarchy-id:controllers:path` lines). */
export function parseCgroups(text: string): Cgroups {
  const out: Cgroups = { v1: {} };
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (id === "0" && controllers === "") out.v2 = path;
    else if (controllers) out.v1[controllers] = path;
  }
  return out;
}

/** The cgroups of a process; `undefined` when it is gone. */
export async function readCgroups(pid: number): Promise<Cgroups | undefined> {
  try {
    return parseCgroups(await readFile(`/proc/${pid}/cgroup`, "utf8"));
  } catch {
    return undefined;
  }
}

/** The identity of a live process now; `undefined` when it is gone, a zombie, or its namespace is hidden. */
export async function identify(pid: number): Promise<InsideIdentity | undefined> {
  const [stat, netns, bootId] = await Promise.all([readStat(pid), readNetns(pid), readBootId()]);
  if (!stat || stat.state === "Z" || stat.state === "X" || netns === undefined) return undefined;
  return { pid, startTime: stat.startTime, comm: stat.comm, bootId, netns };
}

/**
 * Whether the recorded process still lives, in the same boot, in the same network namespace: only then may a
 * revert enter that namespace. Anything else means the namespace may now belong to someone else.
 */
export async function stillSame(recorded: InsideIdentity): Promise<boolean> {
  const now = await identify(recorded.pid);
  if (!now) return false;
  if (recorded.bootId && now.bootId && recorded.bootId !== now.bootId) return false;
  return now.startTime === recorded.startTime && now.netns === recorded.netns;
}

/** The lease key of a network namespace (see PreparedFault.locks): one fault per namespace at a time. */
export function netnsLockKey(id: InsideIdentity): string {
  return `netns:${id.bootId ?? "unknown-boot"}:${id.netns}`;
}

/** Reads an identity back from a ledger entry; `undefined` when it is not one. */
export function readIdentity(value: unknown): InsideIdentity | undefined {
  const v = value as Partial<InsideIdentity> | null;
  if (typeof v !== "object" || v === null) return undefined;
  if (!Number.isInteger(v.pid) || typeof v.startTime !== "number" || !Number.isInteger(v.netns))
    return undefined;
  return {
    pid: v.pid as number,
    startTime: v.startTime,
    comm: typeof v.comm === "string" ? v.comm : "?",
    bootId: typeof v.bootId === "string" ? v.bootId : undefined,
    netns: v.netns as number,
  };
}

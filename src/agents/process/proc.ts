import { readdir, readFile } from "node:fs/promises";
import { ChaosError } from "../../experiments/errors.js";

/**
 * Readers for Linux's /proc. Every reader returns `undefined` for a process that is gone (or became
 * unreadable) between listing and reading, because that race is normal, not an error.
 */

export interface ProcStat {
  pid: number;
  /** The executable name as the kernel keeps it (at most 15 characters); safe to show, unlike argv. */
  comm: string;
  /** R running, S sleeping, D disk sleep, T stopped, t traced, Z zombie, X dead, I idle. */
  state: string;
  ppid: number;
  /** Field 22: clock ticks after boot when the process started; with the pid it names one process. */
  startTime: number;
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ESRCH" || code === "EACCES" || code === "EPERM";
}

/** Parses the text of /proc/<pid>/stat; `comm` may hold spaces and parentheses, so it is cut at the last `)`. */
export function parseStat(pid: number, text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  // After ")": field 3 (state) is index 0, so field n is index n - 3.
  const rest = text.slice(close + 2).split(" ");
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  if (!state || !Number.isFinite(ppid) || !Number.isFinite(startTime)) return undefined;
  return { pid, comm: text.slice(open + 1, close), state, ppid, startTime };
}

/** Reads /proc/<pid>/stat; `undefined` when the process does not exist. */
export async function readStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseStat(pid, await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch (err) {
    if (isGone(err)) return undefined;
    throw err;
  }
}

/** The command line with arguments joined by spaces; empty for kernel threads and zombies. */
export async function readCmdline(pid: number): Promise<string | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, "utf8");
    return raw.replace(/\0+$/, "").split("\0").join(" ");
  } catch (err) {
    if (isGone(err)) return undefined;
    throw err;
  }
}

/**
 * Every pid currently listed in /proc.
 * @throws ChaosError("agent") when /proc cannot be read (not Linux, or /proc not mounted).
 */
export async function listPids(): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch (err) {
    throw new ChaosError("agent", `cannot list processes: ${(err as Error).message}`, {
      hint: "the process agent reads Linux's /proc",
      cause: err,
    });
  }
  return entries.filter((e) => /^\d+$/.test(e)).map(Number);
}

/** Changes at each boot; start times from another boot name processes that no longer exist. */
export async function readBootId(): Promise<string | undefined> {
  try {
    return (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  } catch {
    return undefined;
  }
}

/** Our own pid and every ancestor up to init: a process that signals these would stop the run itself. */
export async function selfAndAncestors(): Promise<Set<number>> {
  const seen = new Set<number>();
  let pid = process.pid;
  while (pid > 0 && !seen.has(pid)) {
    seen.add(pid);
    const stat = await readStat(pid);
    if (!stat) break;
    pid = stat.ppid;
  }
  return seen;
}

/** True for states in which a process does no work: stopped, traced, zombie, dead. */
export function isStoppedOrDead(state: string): boolean {
  return state === "T" || state === "t" || state === "Z" || state === "X" || state === "x";
}

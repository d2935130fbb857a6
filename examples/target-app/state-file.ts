import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Stack } from "./stack.js";

/** What `cli start` leaves behind for `cli stop` and for people: the running stack's addresses. */
export interface StackState extends Omit<Stack, "stop"> {
  /** The supervisor process (the `cli start` process). */
  pid: number;
  startedAt: string;
}

/** The state file of a run directory. Never throws. */
export function stateFilePath(runDir: string): string {
  return join(runDir, "stack.json");
}

/**
 * Writes the state atomically (write, then rename).
 * @throws the file system error.
 */
export function writeState(runDir: string, state: StackState): void {
  const file = stateFilePath(runDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The state of the stack started in this run directory, or undefined when none is recorded. Never throws. */
export function readState(runDir: string): StackState | undefined {
  try {
    return JSON.parse(readFileSync(stateFilePath(runDir), "utf8")) as StackState;
  } catch {
    return undefined;
  }
}

/** Removes the state file. Never throws. */
export function removeState(runDir: string): void {
  rmSync(stateFilePath(runDir), { force: true });
}

/** Whether a process with this pid is alive (a zombie, dead but not yet reaped, is not). Never throws. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; the name before it is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
}

import { mkdirSync, statSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * The folders from `dir` up to the root (or `.`), deepest first: the chain `mkdir -p` walks. Built from the
 * path alone, never from the working directory, which may be gone.
 */
function chain(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    out.push(d);
    if (dirname(d) === d) return out;
  }
}

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code;

function notAFolder(dir: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: "ENOTDIR" });
}

/**
 * Creates `dir` and its missing parents, each `mkdir` tried at most twice. Node's own `mkdir -p` retries
 * forever when the working directory was removed or a parent refuses children (`/proc/self/x`): it spins on
 * ENOENT/EEXIST at full CPU and the run never ends. This one gives up with the file system's error.
 * @throws the file system's error (ENOENT, EACCES, ENOTDIR, ENOSPC …) when `dir` cannot be created.
 */
export async function makeDir(dir: string, mode?: number): Promise<void> {
  const folders = chain(dir);
  for (let i = 0; i < folders.length; i++) {
    try {
      await mkdir(folders[i]!, { mode });
    } catch (err) {
      if (codeOf(err) === "ENOENT" && i < folders.length - 1) continue;
      if (codeOf(err) !== "EEXIST") throw err;
      if (!(await stat(folders[i]!)).isDirectory()) throw notAFolder(folders[i]!);
    }
    // folders[i] exists: create the ones below it, once each, in order.
    for (let j = i - 1; j >= 0; j--) {
      try {
        await mkdir(folders[j]!, { mode });
      } catch (err) {
        if (codeOf(err) !== "EEXIST" || !(await stat(folders[j]!)).isDirectory()) throw err;
      }
    }
    return;
  }
}

/** `makeDir` for the few places that must stay synchronous (a log file opened at start). */
export function makeDirSync(dir: string, mode?: number): void {
  const folders = chain(dir);
  for (let i = 0; i < folders.length; i++) {
    try {
      mkdirSync(folders[i]!, { mode });
    } catch (err) {
      if (codeOf(err) === "ENOENT" && i < folders.length - 1) continue;
      if (codeOf(err) !== "EEXIST") throw err;
      if (!statSync(folders[i]!).isDirectory()) throw notAFolder(folders[i]!);
    }
    for (let j = i - 1; j >= 0; j--) {
      try {
        mkdirSync(folders[j]!, { mode });
      } catch (err) {
        if (codeOf(err) !== "EEXIST" || !statSync(folders[j]!).isDirectory()) throw err;
      }
    }
    return;
  }
}

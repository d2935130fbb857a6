import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "vitest";
import { cgroupMounts, cgroupsOf } from "../../src/agents/stress/cgroup.js";

/**
 * Real cgroups for tests: a cgroup of its own in the cpu, cpuacct and memory hierarchies (v1), made below
 * the test process's own, with an optional CPU quota and memory limit; and a cgroup2 hierarchy mounted on a
 * temporary folder. Needs root; a developer's machine without it skips these suites with a message, CI fails.
 */

const writable = existsSync("/sys/fs/cgroup") && process.getuid?.() === 0;
if (!writable && !process.env.CI) console.warn("cgroup suites skipped: they need root and /sys/fs/cgroup");

/** Whether cgroups can be made here (root, /sys/fs/cgroup). */
export const canUseCgroups = writable;

/** `describe` where cgroups can be made (root), or in CI where their absence must fail. */
export const describeWithCgroups = writable || process.env.CI ? describe : describe.skip;

export interface TestCgroup {
  /** Folder by controller. */
  dirs: Record<string, string>;
  /** Moves a process in (every controller). */
  add(pid: number): Promise<void>;
  /** The pids inside (of the cpuacct hierarchy, or the first). */
  pids(): Promise<number[]>;
  read(controller: string, file: string): Promise<string>;
  /** Kills what is left inside, then removes the cgroup. Never throws. */
  remove(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function killAllIn(dirs: string[]): Promise<void> {
  for (let round = 0; round < 50; round++) {
    let left = 0;
    for (const dir of dirs) {
      const pids = (await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => ""))
        .split("\n")
        .filter(Boolean)
        .map(Number);
      left += pids.length;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
    if (left === 0) return;
    await sleep(50);
  }
}

async function removeDirs(dirs: string[]): Promise<void> {
  await killAllIn(dirs);
  for (const dir of dirs) {
    for (let i = 0; i < 20; i++) {
      try {
        await rmdir(dir);
        break;
      } catch {
        await sleep(50);
      }
    }
  }
}

/**
 * A v1 cgroup `chaoskit-test-<unique>` below this process's own in each controller.
 * @throws Error when a controller is not mounted or the cgroup cannot be made.
 */
export async function makeCgroup(
  opts: { cpuCores?: number; memoryLimit?: number; controllers?: string[] } = {},
): Promise<TestCgroup> {
  const mounts = await cgroupMounts();
  const own = await cgroupsOf("self");
  const name = `chaoskit-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dirs: Record<string, string> = {};
  for (const controller of opts.controllers ?? ["cpu", "cpuacct", "memory"]) {
    const parent = own.v1[controller];
    if (!parent || !mounts.v1.has(controller))
      throw new Error(`cgroup v1 controller ${controller} is not mounted`);
    dirs[controller] = join(parent, name);
  }
  const unique = [...new Set(Object.values(dirs))];
  for (const dir of unique) await mkdir(dir);
  const group: TestCgroup = {
    dirs,
    async add(pid) {
      for (const dir of unique) await writeFile(join(dir, "cgroup.procs"), `${pid}\n`);
    },
    async pids() {
      const dir = dirs.cpuacct ?? unique[0]!;
      return (await readFile(join(dir, "cgroup.procs"), "utf8")).split("\n").filter(Boolean).map(Number);
    },
    read: (controller, file) => readFile(join(dirs[controller]!, file), "utf8").then((t) => t.trim()),
    remove: () => removeDirs(unique),
  };
  try {
    if (opts.cpuCores !== undefined) {
      await writeFile(join(dirs.cpu!, "cpu.cfs_period_us"), "100000");
      await writeFile(join(dirs.cpu!, "cpu.cfs_quota_us"), String(Math.round(opts.cpuCores * 100000)));
    }
    if (opts.memoryLimit !== undefined) {
      await writeFile(join(dirs.memory!, "memory.limit_in_bytes"), String(opts.memoryLimit));
    }
  } catch (err) {
    await group.remove();
    throw err;
  }
  return group;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((done, fail) =>
    execFile(cmd, args, (err, _out, stderr) =>
      err ? fail(new Error(`${cmd} ${args.join(" ")}: ${stderr || err.message}`)) : done(),
    ),
  );
}

export interface TestCgroup2 {
  /** Where the hierarchy is mounted for the test. */
  mount: string;
  /** The child cgroup's folder and its path in the hierarchy. */
  dir: string;
  path: string;
  add(pid: number): Promise<void>;
  read(file: string): Promise<string>;
  remove(): Promise<void>;
}

/**
 * Mounts cgroup2 on a temporary folder (the unified hierarchy, whatever this machine's layout) and makes a
 * child cgroup in it.
 * @throws Error when cgroup2 cannot be mounted.
 */
export async function makeCgroup2(): Promise<TestCgroup2> {
  const mount = await mkdtemp(join(tmpdir(), "chaoskit-cgroup2-"));
  try {
    await run("mount", ["-t", "cgroup2", "none", mount]);
  } catch (err) {
    await rmdir(mount).catch(() => {});
    throw err;
  }
  const path = `/chaoskit-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = join(mount, path);
  await mkdir(dir);
  return {
    mount,
    dir,
    path,
    add: (pid) => writeFile(join(dir, "cgroup.procs"), `${pid}\n`),
    read: (file) => readFile(join(dir, file), "utf8").then((t) => t.trim()),
    async remove() {
      await removeDirs([dir]);
      await run("umount", [mount]).catch(() => {});
      await rmdir(mount).catch(() => {});
    },
  };
}

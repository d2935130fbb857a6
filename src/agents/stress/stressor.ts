import { writeFileSync } from "node:fs";
import { open, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

/**
 * The stressor: the process `chaos stress …` runs, which a stress fault starts as a child of the run.
 *
 *   run ──spawn, stdin = pipe──▶ stressor: join the target's cgroups ─▶ "ready" ─▶ burn / hold / fill
 *                                 exits (removing its fill file) when the pipe closes (the run died, even by
 *                                 SIGKILL), at its deadline, or on SIGTERM/SIGINT
 *
 * It reports JSON lines on stdout: {"event":"ready",…}, {"event":"held","bytes":…}, {"event":"error",…}.
 */
export interface StressorSpec {
  kind: "cpu" | "memory" | "disk";
  /** Milliseconds from start after which it exits whatever happens. */
  deadlineMs: number;
  /** Exit when standard input closes: the pipe that ties it to the run. */
  tied: boolean;
  /** cgroup folders to move into before doing anything (the target's). */
  cgroups: string[];
  workers?: number;
  /** Percent of one core each worker burns. */
  load?: number;
  /** Bytes to hold (memory) or write (disk). */
  bytes?: number;
  /** Memory: reach `bytes` gradually over this many ms, like a leak. */
  growOverMs?: number;
  /** Disk: the file to fill; removed on exit. */
  file?: string;
}

type Emit = (event: Record<string, unknown>) => void;

const CHUNK = 16 * 2 ** 20;
const DISK_CHUNK = 2 ** 20;

// Each worker burns `load`% of every 100 ms slice and sleeps the rest, so 4 workers at 50% use 2 cores.
const CPU_WORKER = `
const { workerData } = require("node:worker_threads");
const busy = workerData.load;
const idle = 100 - busy;
const cell = new Int32Array(new SharedArrayBuffer(4));
let x = 0;
for (;;) {
  const start = Date.now();
  while (Date.now() - start < busy) x = (x * 1103515245 + 12345) | 0;
  if (idle > 0) Atomics.wait(cell, 0, 0, idle);
}`;

/**
 * Runs the stressor until its deadline, the run's pipe closing, or a signal; resolves with its exit code.
 * An error before "ready" (a cgroup that refuses it, a file that cannot be created) is reported and exits 4.
 */
export async function runStressor(spec: StressorSpec, emit: Emit): Promise<number> {
  let cleanup: () => Promise<void> = async () => {};
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let stopping = false;
  const stop = (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    emit({ event: "stopping", why });
    cleanup().finally(() => finish(code));
  };
  const deadline = setTimeout(() => stop("deadline"), spec.deadlineMs);
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  if (spec.tied) {
    process.stdin.on("data", () => {});
    process.stdin.once("end", () => stop("the run is gone"));
    process.stdin.once("error", () => stop("the run is gone"));
    process.stdin.resume();
  }
  try {
    for (const dir of spec.cgroups) await writeFile(join(dir, "cgroup.procs"), `${process.pid}\n`);
    // Under memory pressure the kernel kills the stressor first, not the target it shares a cgroup with.
    try {
      writeFileSync("/proc/self/oom_score_adj", "1000");
    } catch {}
    if (spec.kind === "cpu") startCpu(spec);
    else if (spec.kind === "memory") holdMemory(spec, emit, () => stopping);
    else cleanup = await fillDisk(spec, emit, () => stopping);
    emit({ event: "ready", pid: process.pid, cgroups: spec.cgroups });
  } catch (err) {
    emit({ event: "error", message: (err as Error).message });
    stop("failed", 4);
  }
  const code = await finished;
  clearTimeout(deadline);
  return code;
}

function startCpu(spec: StressorSpec): void {
  const load = Math.min(100, Math.max(1, Math.round(spec.load ?? 100)));
  for (let i = 0; i < (spec.workers ?? 1); i++) {
    const worker = new Worker(CPU_WORKER, { eval: true, workerData: { load } });
    worker.unref();
  }
}

function holdMemory(spec: StressorSpec, emit: Emit, stopping: () => boolean): void {
  const total = spec.bytes ?? 0;
  const held: Buffer[] = [];
  let bytes = 0;
  const chunks = Math.max(1, Math.ceil(total / CHUNK));
  const every = (spec.growOverMs ?? 0) / chunks;
  const grow = () => {
    if (stopping()) return;
    const size = Math.min(CHUNK, total - bytes);
    if (size > 0) {
      // Filled with a pattern, not zeros: every page is touched (resident) and cannot be merged.
      held.push(Buffer.allocUnsafeSlow(size).fill(0xa5));
      bytes += size;
    }
    if (bytes >= total || held.length % 8 === 0) emit({ event: "held", bytes });
    if (bytes < total) setTimeout(grow, every);
  };
  grow();
  // Kept reachable until exit.
  (globalThis as Record<string, unknown>).__chaoskitHeld = held;
}

async function fillDisk(
  spec: StressorSpec,
  emit: Emit,
  stopping: () => boolean,
): Promise<() => Promise<void>> {
  const file = spec.file!;
  // "wx": never write into a file that exists already; it is not ours to fill or to remove.
  const handle = await open(file, "wx", 0o600);
  const remove = async () => {
    await handle.close().catch(() => {});
    await unlink(file).catch(() => {});
  };
  const block = Buffer.alloc(DISK_CHUNK, 0xa5);
  const total = spec.bytes ?? 0;
  void (async () => {
    let written = 0;
    try {
      while (written < total && !stopping()) {
        const n = Math.min(DISK_CHUNK, total - written);
        await handle.write(block, 0, n);
        written += n;
      }
      await handle.sync();
      emit({ event: "held", bytes: written });
    } catch (err) {
      const full = (err as NodeJS.ErrnoException).code === "ENOSPC";
      emit({ event: full ? "held" : "error", bytes: written, full, message: (err as Error).message });
    }
  })();
  return remove;
}

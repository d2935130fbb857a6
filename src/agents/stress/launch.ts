import { type ChildProcess, spawn } from "node:child_process";
import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import { chaosEntry, findHelpers, stopHelpers, TAG_FLAG } from "../inside/index.js";
import { readStat } from "../process/proc.js";
import type { StressorSpec } from "./stressor.js";

/**
 * Starts stressors as children of the run and stops them again, from the run itself or from a fresh
 * `chaos rollback` process (which finds them by the tag on their command line).
 */

/** One stressor this process started. */
export interface Stressor {
  tag: string;
  pid: number;
  startTime?: number;
  child: ChildProcess;
  /** Events it reported, newest last. */
  events: Record<string, unknown>[];
  /** Set once it exited: the code, or the signal that killed it. */
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: number };
  exited: Promise<void>;
  /** Whether this process asked it to stop (a later SIGKILL is then ours, not the kernel's). */
  stopRequested: boolean;
}

const started = new Map<string, Stressor>();

/** How long a stressor may take to start and join its cgroups. */
const READY_TIMEOUT_MS = 45_000;

/** The command line of a stressor: readable in `ps`, and carrying the tag `chaos rollback` looks for. */
export function stressorArgs(spec: StressorSpec, tag: string): string[] {
  const args = ["stress", spec.kind, TAG_FLAG, tag, "--for", `${Math.ceil(spec.deadlineMs)}ms`];
  if (spec.tied) args.push("--tied");
  for (const dir of spec.cgroups) args.push("--cgroup", dir);
  if (spec.workers !== undefined) args.push("--workers", String(spec.workers));
  if (spec.load !== undefined) args.push("--load", String(spec.load));
  if (spec.bytes !== undefined) args.push("--size", String(spec.bytes));
  if (spec.growOverMs !== undefined) args.push("--grow-over", `${spec.growOverMs}ms`);
  if (spec.file !== undefined) args.push("--file", spec.file);
  return args;
}

/**
 * Starts a stressor tied to this process by its standard input, and waits until it reports "ready" (it
 * joined the cgroups and began), then for `waitHeld` until it holds what it was asked to (memory, disk).
 * @throws ChaosError("agent") when it fails to start, reports an error, exits, or is not ready in time;
 * it is stopped before the error is thrown.
 */
export async function launchStressor(
  spec: StressorSpec,
  tag: string,
  log: Logger,
  opts: { waitHeldMs?: number; signal?: AbortSignal } = {},
): Promise<Stressor> {
  const child = spawn(process.execPath, [chaosEntry(), ...stressorArgs(spec, tag)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (child.pid === undefined) {
    throw new ChaosError("agent", "cannot start the stressor", { hint: `is ${process.execPath} runnable?` });
  }
  const stressor: Stressor = {
    tag,
    pid: child.pid,
    child,
    events: [],
    exited: new Promise((done) => child.once("exit", () => done())),
    stopRequested: false,
  };
  started.set(tag, stressor);
  const waiters = new Set<() => void>();
  child.once("exit", (code, signal) => {
    stressor.exit = { code, signal, at: Date.now() };
    if (!stressor.stopRequested)
      log.warn(
        { tag, pid: child.pid, code, signal, why: describeExit(stressor) },
        "the stressor ended early",
      );
    for (const w of waiters) w();
  });
  let pending = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    for (let i = pending.indexOf("\n"); i >= 0; i = pending.indexOf("\n")) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      try {
        stressor.events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        continue;
      }
      for (const w of waiters) w();
    }
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  // The pipe stays open for as long as this process lives: its closing is the stressor's signal to stop.
  child.stdin!.on("error", () => {});
  const until = (what: string, ms: number, test: () => boolean) =>
    new Promise<void>((done, fail) => {
      const check = () => {
        const error = stressor.events.find((e) => e.event === "error");
        if (error) return end(new ChaosError("agent", `the stressor failed: ${String(error.message)}`));
        if (test()) return end();
        if (stressor.exit)
          return end(
            new ChaosError("agent", `the stressor exited before it was ${what}: ${describeExit(stressor)}`, {
              hint: stderr.trim().split("\n").slice(-3).join(" | ") || undefined,
            }),
          );
      };
      const timer = setTimeout(
        () => end(new ChaosError("agent", `the stressor was not ${what} within ${Math.round(ms / 1000)} s`)),
        ms,
      );
      const onAbort = () => end(new ChaosError("aborted", "the run was aborted"));
      opts.signal?.addEventListener("abort", onAbort);
      function end(err?: Error) {
        clearTimeout(timer);
        waiters.delete(check);
        opts.signal?.removeEventListener("abort", onAbort);
        if (err) fail(err);
        else done();
      }
      waiters.add(check);
      check();
    });
  try {
    // Starting Node and loading the CLI takes a while on a loaded machine; a stressor is not a probe.
    await until("ready", READY_TIMEOUT_MS, () => stressor.events.some((e) => e.event === "ready"));
    stressor.startTime = (await readStat(stressor.pid))?.startTime;
    if (opts.waitHeldMs) {
      const bytes = spec.bytes ?? 0;
      // Killed by the kernel on the way up is an outcome of the fault (the limit was reached), not a failure.
      await until(
        "holding its bytes",
        opts.waitHeldMs,
        () =>
          stressor.events.some((e) => e.event === "held" && (Number(e.bytes) >= bytes || e.full === true)) ||
          killedByKernel(stressor),
      );
    }
  } catch (err) {
    await stopStressor(tag, undefined, log);
    throw err;
  }
  return stressor;
}

/** The stressor this process started under `tag`, if any. */
export function startedStressor(tag: string): Stressor | undefined {
  return started.get(tag);
}

/** Whether it died of a SIGKILL this process did not send: the kernel's OOM killer, as a rule. */
export function killedByKernel(s: Stressor): boolean {
  return s.exit?.signal === "SIGKILL" && !s.stopRequested;
}

/** "exited with code 0", "killed by SIGKILL (out of memory?)". */
export function describeExit(s: Stressor): string {
  if (!s.exit) return "still running";
  if (killedByKernel(s)) return "killed by SIGKILL (the kernel's OOM killer?)";
  if (s.exit.signal) return `killed by ${s.exit.signal}`;
  return `exited with code ${s.exit.code}`;
}

/**
 * Stops every stressor tagged `tag` (found on its command line, as `chaos rollback` must find those of a dead
 * run, and the one this process started): SIGTERM, on which it removes its own fill file and exits; SIGKILL
 * after 3 s. A recorded pid is only signalled while it still names the same process (start time).
 * @throws ChaosError("agent") when one cannot be signalled (not permitted).
 */
export async function stopStressor(
  tag: string,
  recorded: { pid?: number; startTime?: number } | undefined,
  log: Logger,
): Promise<void> {
  const own = started.get(tag);
  if (own) own.stopRequested = true;
  const found = await findHelpers(tag);
  const add = async (pid: number, startTime?: number) => {
    const stat = await readStat(pid);
    if (!stat || stat.state === "Z" || found.some((f) => f.pid === pid)) return;
    if (startTime === undefined || stat.startTime === startTime)
      found.push({ pid, startTime: stat.startTime });
  };
  if (own && !own.exit) await add(own.pid, own.startTime);
  if (recorded?.pid !== undefined) await add(recorded.pid, recorded.startTime);
  try {
    const killed = await stopHelpers(found, 3_000);
    if (killed.length) log.warn({ tag, pids: killed }, "the stressor did not stop on SIGTERM: killed");
  } catch (err) {
    throw new ChaosError("agent", `cannot stop the stressor ${tag}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (own) {
    await Promise.race([own.exited, new Promise((r) => setTimeout(r, 1_000))]);
    own.child.stdin?.destroy();
  }
}

/** Forgets a stressor once its fault is reverted. */
export function forgetStressor(tag: string): void {
  started.delete(tag);
}

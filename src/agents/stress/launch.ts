import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import { listPids, readCmdline, readStat } from "../process/proc.js";
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

/** The built CLI: beside this module in dist/, or dist/ of the repository when running from the sources. */
export function cliEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = resolve(here, "../../cli/main.js");
  if (existsSync(built)) return built;
  return resolve(here, "../../../dist/src/cli/main.js");
}

/** The command line of a stressor: readable in `ps`, and carrying the tag `chaos rollback` looks for. */
export function stressorArgs(spec: StressorSpec, tag: string): string[] {
  const args = ["stress", spec.kind, "--tag", tag, "--for", `${Math.ceil(spec.deadlineMs)}ms`];
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
  const child = spawn(process.execPath, [cliEntry(), ...stressorArgs(spec, tag)], {
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
    await until("ready", 15_000, () => stressor.events.some((e) => e.event === "ready"));
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

/** Pids of stressors carrying `tag` on their command line (they outlive a killed run). */
export async function findTagged(tag: string): Promise<number[]> {
  const mine: number[] = [];
  for (const pid of await listPids()) {
    const cmd = await readCmdline(pid);
    if (cmd && / stress (cpu|memory|disk) /.test(cmd) && cmd.includes(` --tag ${tag} `)) mine.push(pid);
  }
  return mine;
}

async function gone(pid: number, startTime: number | undefined, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    const stat = await readStat(pid);
    if (!stat || stat.state === "Z" || (startTime !== undefined && stat.startTime !== startTime)) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/**
 * Stops every stressor tagged `tag`: SIGTERM (it removes its own fill file and exits), SIGKILL after 3 s.
 * A recorded pid is only signalled while it still names the same process (start time).
 * @throws ChaosError("agent") when one cannot be stopped (not permitted).
 */
export async function stopStressor(
  tag: string,
  recorded: { pid?: number; startTime?: number } | undefined,
  log: Logger,
): Promise<void> {
  const own = started.get(tag);
  const pids = new Set(await findTagged(tag));
  if (own && !own.exit) pids.add(own.pid);
  if (recorded?.pid !== undefined) {
    const stat = await readStat(recorded.pid);
    if (stat && (recorded.startTime === undefined || stat.startTime === recorded.startTime))
      pids.add(recorded.pid);
  }
  if (own) own.stopRequested = true;
  try {
    for (const pid of pids) {
      const startTime = (await readStat(pid))?.startTime;
      signal(pid, "SIGTERM");
      if (!(await gone(pid, startTime, 3_000))) {
        log.warn({ pid, tag }, "the stressor did not stop on SIGTERM: SIGKILL");
        signal(pid, "SIGKILL");
        await gone(pid, startTime, 2_000);
      }
    }
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

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import { listPids, readCmdline, readStat } from "../process/proc.js";
import { type InsideIdentity, readNetns } from "./identity.js";

/**
 * A helper is a `chaos` child process that does a fault's work inside a target (its network namespace),
 * tied to the run that started it:
 *
 *   run ──stdin pipe (never written)──▶ helper, entered with `nsenter --net=/proc/PID/ns/net`
 *       ◀─stdout: one line {"ready": …} or {"error": …}
 *       ◀─stderr: its JSON log lines, forwarded to the run's log
 *
 * The helper undoes its own work and exits when its stdin reaches its end (the run stopped it, ended, or
 * died, SIGKILL included: the kernel closes the pipe), at its deadline, or on SIGTERM/SIGINT/SIGHUP. It runs
 * as HELPER_GID in a process group of its own, so rules can leave its own traffic alone and a Ctrl-C meant
 * for the run does not race the run's orderly revert.
 */

/** The group every helper runs as; rules exclude it (`-m owner ! --gid-owner`), so a helper never faults itself. */
export const HELPER_GID = 2_147_481_337;

/** The argument that carries a helper's tag, by which `chaos rollback` finds it again. */
export const TAG_FLAG = "--tag";

/**
 * The chaos CLI entry a helper runs: the built `cli/main.js` next to this module; from the TypeScript sources
 * (tests), the build in dist/.
 */
export function chaosEntry(): string {
  const built = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
  if (existsSync(built)) return built;
  const fromSources = built.replace(/([/\\])src([/\\])cli([/\\])main\.js$/, "$1dist$1src$1cli$1main.js");
  if (existsSync(fromSources)) return fromSources;
  throw new ChaosError("agent", `the chaos CLI is not built: neither ${built} nor ${fromSources} exists`, {
    hint: "run npm run build",
  });
}

export interface HelperLaunch {
  /** Whose network namespace the helper joins. */
  target: InsideIdentity;
  /** The chaos subcommand and its arguments, e.g. ["intercept", "--plan", "…"]. Must include TAG_FLAG. */
  args: string[];
  /** Epoch ms: the helper undoes its work and exits then, whatever became of the run. */
  deadline: number;
  log: Logger;
  /** The script node runs (default: the chaos CLI, see `chaosEntry`); tests give a fixture. */
  entry?: string;
  /** How long the helper may take to report ready (default 15 s). */
  readyTimeoutMs?: number;
}

/** A helper that reported ready. */
export interface Helper {
  pid: number;
  startTime: number;
  /** What the helper reported with its ready line. */
  ready: Record<string, unknown>;
  /** The exit code (or null for a signal) once it exited. */
  exited: Promise<number | null>;
  /**
   * Asks the helper to undo its work and exit (closes its pipe), then waits up to `graceMs` (default 10 s);
   * a helper still there is killed (SIGKILL).
   * @returns "stopped" when it exited by itself (its exit code 0 says it undid everything), else "killed".
   */
  stop(graceMs?: number): Promise<{ how: "stopped" | "killed"; code: number | null }>;
}

function forwardLogs(child: ChildProcess, log: Logger): void {
  let rest = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (text: string) => {
    const lines = (rest + text).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        const level = (entry.level ?? 30) >= 50 ? "error" : (entry.level ?? 30) >= 40 ? "warn" : "info";
        log[level]({ helper: child.pid, ...entry, level: undefined }, entry.msg ?? "helper");
      } catch {
        log.warn({ helper: child.pid, line }, "helper output");
      }
    }
  });
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => finish(new Error(`no ready line within ${timeoutMs}ms`)), timeoutMs);
    const finish = (err?: Error, value?: Record<string, unknown>) => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (chunk: string) => {
      text += chunk;
      const end = text.indexOf("\n");
      if (end < 0) return;
      try {
        finish(undefined, JSON.parse(text.slice(0, end)) as Record<string, unknown>);
      } catch {
        finish(new Error(`unreadable ready line: ${text.slice(0, 200)}`));
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`it exited (${signal ?? `code ${code}`}) before it was ready`));
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

/**
 * Starts a helper inside the target's network namespace and waits for its ready line. Checks that the
 * namespace it entered is the recorded one (the target's pid could have been reused meanwhile).
 * @throws ChaosError("agent") when it cannot start, reports an error, is not ready in time, or entered
 * another namespace; the helper is then stopped (it undoes whatever it did) before the error is thrown.
 */
export async function launchHelper(spec: HelperLaunch): Promise<Helper> {
  const argv = [
    `--net=/proc/${spec.target.pid}/ns/net`,
    "--",
    process.execPath,
    spec.entry ?? chaosEntry(),
    ...spec.args,
    "--deadline",
    String(spec.deadline),
  ];
  const child = spawn("nsenter", argv, {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
    gid: HELPER_GID,
    env: { ...process.env, CHAOS_HELPER: "1" },
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  child.stdin?.on("error", () => undefined); // the helper may be gone already: its exit tells the rest
  forwardLogs(child, spec.log);
  const stop: Helper["stop"] = async (graceMs = 10_000) => {
    child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (code !== "late") return { how: "stopped", code };
    child.kill("SIGKILL");
    return { how: "killed", code: await exited };
  };
  const what = `the helper in the network namespace of pid ${spec.target.pid} (${spec.target.comm})`;
  let line: Record<string, unknown>;
  try {
    await spawned;
    line = await firstLine(child, spec.readyTimeoutMs ?? 15_000);
  } catch (err) {
    await stop(5_000);
    throw new ChaosError("agent", `${what} did not start: ${(err as Error).message}`, {
      cause: err,
      hint: "see run.log for its own log lines",
    });
  }
  if (line.error !== undefined || typeof line.ready !== "object" || line.ready === null) {
    await stop(10_000);
    const e = (line.error ?? { message: "no ready line" }) as { message?: string; hint?: string };
    throw new ChaosError("agent", `${what} failed: ${e.message ?? JSON.stringify(line.error)}`, {
      hint: e.hint,
    });
  }
  const ready = line.ready as Record<string, unknown>;
  const pid = child.pid!;
  const [stat, netns] = await Promise.all([readStat(pid), readNetns(pid)]);
  if (!stat || netns !== spec.target.netns) {
    await stop(10_000);
    throw new ChaosError("agent", `${what} is not in the recorded network namespace ${spec.target.netns}`, {
      hint: "the target exited and its pid was reused while the fault was being applied; nothing stays applied",
    });
  }
  return { pid, startTime: stat.startTime, ready, exited, stop };
}

/** A helper found by its tag: enough to stop it, and to tell it from a later process with the same pid. */
export interface FoundHelper {
  pid: number;
  startTime: number;
  netns?: number;
}

/**
 * Every live helper process carrying `tag` (in its `--tag` argument), wherever it runs: how `chaos rollback`
 * finds the helpers of a dead run without trusting recorded pids.
 */
export async function findHelpers(tag: string): Promise<FoundHelper[]> {
  const found: FoundHelper[] = [];
  for (const pid of await listPids()) {
    if (pid === process.pid) continue;
    const cmdline = await readCmdline(pid);
    const args = cmdline?.split(" ") ?? [];
    const at = args.indexOf(TAG_FLAG);
    if (at < 0 || args[at + 1] !== tag) continue;
    const stat = await readStat(pid);
    if (!stat || stat.state === "Z") continue;
    found.push({ pid, startTime: stat.startTime, netns: await readNetns(pid) });
  }
  return found;
}

/**
 * Stops helpers: SIGTERM (a helper then undoes its own work), and SIGKILL for one still there after
 * `graceMs`. A pid now naming another process (another start time) is left alone.
 * @returns the pids that had to be killed, whose work the caller must undo itself.
 */
export async function stopHelpers(helpers: FoundHelper[], graceMs = 10_000): Promise<number[]> {
  const same = async (h: FoundHelper) => {
    const s = await readStat(h.pid);
    return s !== undefined && s.startTime === h.startTime && s.state !== "Z";
  };
  for (const h of helpers) if (await same(h)) process.kill(h.pid, "SIGTERM");
  const until = Date.now() + graceMs;
  let left = helpers;
  while (Date.now() < until) {
    const alive = await Promise.all(left.map(same));
    left = left.filter((_, i) => alive[i]);
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const h of left) if (await same(h)) process.kill(h.pid, "SIGKILL");
  return left.map((h) => h.pid);
}

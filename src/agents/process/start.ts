import { spawn } from "node:child_process";
import { ChaosError } from "../../experiments/errors.js";
import type { RevertContext } from "../agent.js";
import { readBootId, readStat } from "./proc.js";
import type { ProcessIdentity } from "./signal.js";
import { findProcesses, type ProcessTarget } from "./target.js";

/**
 * What the ledger keeps for a restart: enough for a fresh process to start the service again if a crash
 * came between the stop and the start. Paths are absolute (`chaos rollback` may run anywhere), and the
 * environment holds no secret: variables whose value carries one are named in `withheld` instead.
 */
export interface StartData {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  withheld: string[];
  /** How the experiment named the service (not by pid, which the new process will not have). */
  target: { "pid-file"?: string; name?: string; port?: number };
  bootId?: string;
  /** The processes being stopped; while one of them lives, the service was never down. */
  stopped: ProcessIdentity[];
  /** The process the restart started, once it did. */
  started?: ProcessIdentity;
}

/**
 * Starts `argv` detached from this process (it must outlive the run). Its output is discarded: nothing is
 * left behind in the temp folder; a service that should keep logs writes them itself.
 * @throws ChaosError("agent") when the program cannot be started (not found, not executable, bad cwd).
 */
export async function startDetached(
  argv: string[],
  cwd: string | undefined,
  env: Record<string, string> | undefined,
): Promise<ProcessIdentity> {
  const [program, ...rest] = argv as [string, ...string[]];
  try {
    const child = spawn(program, rest, {
      cwd,
      env: { ...process.env, ...env },
      detached: true,
      stdio: "ignore",
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    const pid = child.pid!;
    const stat = await readStat(pid);
    return { pid, startTime: stat?.startTime ?? 0, comm: stat?.comm ?? program };
  } catch (err) {
    throw new ChaosError("agent", `starting ${program} failed: ${(err as Error).message}`, {
      hint: 'start is an argv array such as ["node", "server.js"]; check the program path and cwd',
      cause: err,
    });
  }
}

async function alive(p: ProcessIdentity): Promise<boolean> {
  const now = await readStat(p.pid);
  return now !== undefined && now.startTime === p.startTime && now.state !== "Z" && now.state !== "X";
}

/**
 * Whether the restarted service runs: an old or the new process lives, its target names a live one, or a
 * live process has exactly the recorded command line (what a revert started, for a target named by pid).
 */
async function serviceRunning(data: StartData): Promise<boolean> {
  const boot = await readBootId();
  const sameBoot = !data.bootId || !boot || data.bootId === boot;
  const known = [...data.stopped, ...(data.started ? [data.started] : [])];
  if (sameBoot && (await Promise.all(known.map(alive))).some(Boolean)) return true;
  const t = data.target;
  const byTarget: ProcessTarget =
    t["pid-file"] !== undefined || t.name !== undefined || t.port !== undefined
      ? { pidFile: t["pid-file"], name: t.name, port: t.port, all: true }
      : { name: `^${escapeRegex(data.argv.join(" "))}$`, all: true };
  return (await findProcesses(byTarget).catch(() => [])).length > 0;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Reads start data back from a ledger, which may come from another process or version.
 * @throws ChaosError("agent") when the data is not what `restart` writes.
 */
function readStartData(data: Record<string, unknown>): StartData {
  const d = data as Partial<StartData>;
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
  const ok =
    strings(d.argv) &&
    (d.argv as string[]).length > 0 &&
    typeof d.cwd === "string" &&
    typeof d.env === "object" &&
    d.env !== null &&
    Object.values(d.env).every((v) => typeof v === "string") &&
    typeof d.target === "object" &&
    d.target !== null &&
    Array.isArray(d.stopped);
  if (!ok) {
    throw new ChaosError("agent", "malformed start entry: expected { argv, cwd, env, target, stopped }", {
      hint: "the ledger entry was not written by the process agent's restart",
    });
  }
  return { withheld: [], ...d } as StartData;
}

/**
 * The revert of a restart: starts the service again unless it runs (the restart completed, or was never
 * begun). Idempotent.
 * @throws ChaosError("agent") for malformed data or a program that cannot be started.
 */
export async function startIfDown(data: Record<string, unknown>, ctx: RevertContext): Promise<void> {
  const start = readStartData(data);
  if (await serviceRunning(start)) return;
  if (start.withheld.length > 0) {
    ctx.log.warn(
      { withheld: start.withheld },
      "starting without the environment variables that held secrets; they were not recorded",
    );
  }
  const started = await startDetached(start.argv, start.cwd, start.env);
  ctx.log.info({ pid: started.pid, argv0: start.argv[0] }, "process started again");
}

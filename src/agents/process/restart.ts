import { spawn } from "node:child_process";
import { open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { durationSchema, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition } from "../agent.js";
import { readStat } from "./proc.js";
import { listIdentities, type ProcessIdentity, readSignal, SIGNAL_NAMES, signalAll } from "./signal.js";
import { type ProcessTarget, readTarget, resolveTargets, targetSchema } from "./target.js";

const POLL_MS = 25;
/** After SIGKILL a process normally vanishes at once; only uninterruptible sleep (D) takes longer. */
const KILL_WAIT_MS = 5000;

/** Polls until the process exited (or became a zombie, or its pid was reused); false when `ms` ran out. */
async function waitForExit(p: ProcessIdentity, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = await readStat(p.pid);
    if (!now || now.startTime !== p.startTime || now.state === "Z" || now.state === "X") return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/**
 * Starts `target.start` detached from this process (it must outlive the run), output appended to a log file.
 * @throws ChaosError("agent") when the program cannot be started (not found, not executable, bad cwd).
 */
async function startDetached(target: ProcessTarget, argv: string[]): Promise<{ pid: number; log: string }> {
  const [program, ...rest] = argv as [string, ...string[]];
  const log = join(
    tmpdir(),
    `chaoskit-restart-${basename(program).replace(/[^\w.-]/g, "_")}-${Date.now()}.log`,
  );
  const file = await open(log, "a");
  try {
    const child = spawn(program, rest, {
      cwd: target.cwd,
      env: { ...process.env, ...target.env },
      detached: true,
      stdio: ["ignore", file.fd, file.fd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    return { pid: child.pid!, log };
  } catch (err) {
    await rm(log, { force: true });
    throw new ChaosError("agent", `starting ${program} failed: ${(err as Error).message}`, {
      hint: 'start is an argv array such as ["node", "server.js"]; check the program path and cwd',
      cause: err,
    });
  } finally {
    await file.close();
  }
}

/**
 * Stops the target (signal, then SIGKILL after `grace`) and starts `target.start` again. There is nothing
 * to revert: the fault is the restart itself. An abort of the run does not interrupt it, because stopping
 * half-way would leave the service down with no revert to bring it back.
 */
export const restartAction: ActionDefinition = {
  name: "restart",
  description: "stop the matching processes (signal, SIGKILL after grace) and start target.start once",
  target: { allOf: [targetSchema, { type: "object", required: ["start"], properties: { start: true } }] },
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      signal: { enum: SIGNAL_NAMES, default: "SIGTERM" },
      grace: { ...durationSchema, default: "5s", description: "how long to wait for an exit before SIGKILL" },
    },
  },
  /**
   * @throws ChaosError("invalid") when the target has no `start`; ChaosError("agent") when no process (or,
   * without `all`, more than one) matches.
   */
  async prepare(input, ctx) {
    const target = readTarget(input.target);
    const argv = target.start;
    if (!argv || argv.length === 0) {
      throw new ChaosError("invalid", "restart needs target.start, the argv that starts the process again", {
        hint: 'e.g. start: ["node", "server.js"]',
      });
    }
    const signal = readSignal(input.args.signal, "SIGTERM");
    const graceMs = parseDuration(input.args.grace ?? "5s");
    const processes = await resolveTargets(target, ctx.log);
    return {
      async apply() {
        const { signalled } = await signalAll(processes, signal, ctx.log);
        const exited = await Promise.all(processes.map((p) => waitForExit(p, graceMs)));
        const stubborn = processes.filter((_, i) => !exited[i]);
        if (stubborn.length > 0) {
          ctx.log.warn({ pids: stubborn.map((p) => p.pid), graceMs }, "still running after grace; SIGKILL");
          await signalAll(stubborn, "SIGKILL", ctx.log);
          const killed = await Promise.all(stubborn.map((p) => waitForExit(p, KILL_WAIT_MS)));
          const undead = stubborn.filter((_, i) => !killed[i]);
          if (undead.length > 0) {
            throw new ChaosError("agent", `still running after SIGKILL: ${listIdentities(undead)}`, {
              hint: "a process in uninterruptible sleep (state D) cannot be killed until its I/O returns",
            });
          }
        }
        const started = await startDetached(target, argv);
        ctx.log.info({ pid: started.pid, log: started.log }, "process started");
        return {
          signal,
          signalled,
          killed: stubborn.map((p) => p.pid),
          pid: started.pid,
          log: started.log,
        };
      },
    };
  },
};

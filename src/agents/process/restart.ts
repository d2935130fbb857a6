import { basename, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { durationSchema, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition, RevertDescription } from "../agent.js";
import { readBootId, readStat } from "./proc.js";
import {
  listIdentities,
  lockKeys,
  type ProcessIdentity,
  readSignal,
  SIGNAL_NAMES,
  signalAll,
} from "./signal.js";
import { type StartData, startDetached } from "./start.js";
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

/** The environment to record: a variable whose value carries a secret is withheld, by name. */
function recordableEnv(env: Record<string, string>, secrets: Record<string, string>) {
  const values = Object.values(secrets).filter((s) => s.length > 0);
  const kept: Record<string, string> = {};
  const withheld: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (values.some((s) => v.includes(s))) withheld.push(k);
    else kept[k] = v;
  }
  return { env: kept, withheld };
}

/** The start data for the ledger, every path absolute. */
async function startData(
  target: ProcessTarget,
  argv: string[],
  stopped: ProcessIdentity[],
  secrets: Record<string, string>,
): Promise<StartData> {
  return {
    argv,
    cwd: resolve(target.cwd ?? "."),
    ...recordableEnv(target.env ?? {}, secrets),
    target: {
      ...(target.pidFile !== undefined ? { "pid-file": resolve(target.pidFile) } : {}),
      ...(target.name !== undefined ? { name: target.name } : {}),
      ...(target.port !== undefined ? { port: target.port } : {}),
    },
    bootId: await readBootId(),
    stopped,
  };
}

/**
 * Stops the target (signal, then SIGKILL after `grace`) and starts `target.start` again. Its ledger entry,
 * written before the stop, starts the service again should the run die between the stop and the start; once
 * the new process runs, reverting does nothing. An abort of the run does not interrupt it, because stopping
 * half-way would leave the service down.
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
    const processes = (await resolveTargets(target, ctx.log)).map(({ pid, startTime, comm }) => ({
      pid,
      startTime,
      comm,
    }));
    const data = await startData(target, argv, processes, ctx.secrets);
    const revert: RevertDescription = {
      agent: "process",
      kind: "start",
      description: `start ${basename(argv[0]!)} again unless it runs (restart of ${listIdentities(processes)})`,
      data: { ...data },
    };
    return {
      revert,
      locks: lockKeys(processes, data.bootId),
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
        const started = await startDetached(argv, data.cwd, target.env);
        // Refines the ledger entry: from now on the service runs, and reverting must not start a second one.
        revert.data.started = started;
        ctx.log.info({ pid: started.pid }, "process started");
        return { signal, signalled, killed: stubborn.map((p) => p.pid), pid: started.pid };
      },
    };
  },
};

import type { ProbeDefinition } from "../agent.js";
import { isStoppedOrDead } from "./proc.js";
import { findProcesses, readTarget, targetSchema } from "./target.js";

/**
 * True when at least one process the target names is alive and not stopped. A target that matches nothing
 * is `false`, not an error: "the service is down" is exactly what this probe exists to observe.
 */
export const runningProbe: ProbeDefinition = {
  name: "running",
  description: "whether at least one matching process is alive and not stopped; fields count, pids, states",
  args: targetSchema,
  /**
   * @throws ChaosError("invalid") for a target naming no process or a bad regex; ChaosError("agent") when a
   * pid-file is unreadable or a port's owner cannot be inspected.
   */
  async run(args) {
    const processes = await findProcesses(readTarget(args));
    const pids = processes.map((p) => p.pid);
    const states = processes.map((p) => p.state);
    const value = processes.some((p) => !isStoppedOrDead(p.state));
    const summary =
      processes.length === 0
        ? "no process matches"
        : `${processes.filter((p) => !isStoppedOrDead(p.state)).length} of ${processes.length} running (` +
          processes.map((p) => `${p.pid} ${p.state}`).join(", ") +
          ")";
    return { value, fields: { count: processes.length, pids, states }, summary };
  },
  check(args) {
    if (typeof args.name !== "string") return [];
    try {
      new RegExp(args.name);
      return [];
    } catch (err) {
      return [{ path: ["name"], message: `not a valid regex: ${(err as Error).message}` }];
    }
  },
};

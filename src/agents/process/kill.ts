import type { ActionDefinition } from "../agent.js";
import { readBootId } from "./proc.js";
import { lockKeys, readSignal, SIGNAL_NAMES, signalAll } from "./signal.js";
import { readTarget, resolveTargets, targetSchema } from "./target.js";

/** Sends a signal (SIGTERM by default) to the target. Nothing to revert: a killed process stays killed. */
export const killAction: ActionDefinition = {
  name: "kill",
  description: "send a signal (default SIGTERM) to the matching processes",
  target: targetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    properties: { signal: { enum: SIGNAL_NAMES, default: "SIGTERM" } },
  },
  /** @throws ChaosError("agent") when no process (or, without `all`, more than one) matches. */
  async prepare(input, ctx) {
    const signal = readSignal(input.args.signal, "SIGTERM");
    const processes = await resolveTargets(readTarget(input.target), ctx.log);
    return {
      locks: lockKeys(processes, await readBootId()),
      async apply() {
        return { signal, ...(await signalAll(processes, signal, ctx.log)) };
      },
    };
  },
};

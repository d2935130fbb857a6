import type { ActionDefinition } from "../agent.js";
import { readBootId } from "./proc.js";
import { lockKeys, signalAll } from "./signal.js";
import { readTarget, resolveTargets, targetSchema } from "./target.js";

/** Sends SIGCONT: the manual counterpart of `suspend`, e.g. in a runbook. */
export const resumeAction: ActionDefinition = {
  name: "resume",
  description: "continue stopped processes (SIGCONT)",
  target: targetSchema,
  args: { type: "object", additionalProperties: false, properties: {} },
  /** @throws ChaosError("agent") when no process (or, without `all`, more than one) matches. */
  async prepare(input, ctx) {
    const processes = await resolveTargets(readTarget(input.target), ctx.log);
    return {
      locks: lockKeys(processes, await readBootId()),
      async apply() {
        return { signal: "SIGCONT", ...(await signalAll(processes, "SIGCONT", ctx.log)) };
      },
    };
  },
};

import type { ActionDefinition, RevertDescription } from "../agent.js";
import { readBootId } from "./proc.js";
import { listIdentities, lockKeys, type ProcessIdentity, signalAll } from "./signal.js";
import { readTarget, resolveTargets, targetSchema } from "./target.js";

/** What the ledger keeps for a suspend: enough to resume exactly those processes from a fresh process. */
export interface ResumeData {
  /** The boot the start times belong to; after a reboot every recorded process is gone. */
  bootId?: string;
  processes: ProcessIdentity[];
}

/** Freezes the target with SIGSTOP; the revert ("resume") sends SIGCONT to the very same processes. */
export const suspendAction: ActionDefinition = {
  name: "suspend",
  description: "freeze the matching processes (SIGSTOP) until the fault is reverted (SIGCONT)",
  target: targetSchema,
  args: { type: "object", additionalProperties: false, properties: {} },
  /** @throws ChaosError("agent") when no process (or, without `all`, more than one) matches. */
  async prepare(input, ctx) {
    const found = await resolveTargets(readTarget(input.target), ctx.log);
    const processes = found.map(({ pid, startTime, comm }) => ({ pid, startTime, comm }));
    const data: ResumeData = { bootId: await readBootId(), processes };
    const revert: RevertDescription = {
      agent: "process",
      kind: "resume",
      description: `resume ${processes.length === 1 ? "pid " : "pids "}${listIdentities(processes)}`,
      data: { ...data },
    };
    return {
      revert,
      locks: lockKeys(processes, data.bootId),
      async apply() {
        const { signalled, gone } = await signalAll(processes, "SIGSTOP", ctx.log);
        return { suspended: signalled, gone };
      },
    };
  },
};

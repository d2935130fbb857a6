import { ChaosError } from "../../experiments/errors.js";
import type { RevertContext, RevertDescription } from "../agent.js";
import { readBootId } from "./proc.js";
import { type ProcessIdentity, signalAll } from "./signal.js";
import { startIfDown } from "./start.js";
import type { ResumeData } from "./suspend.js";

/** The revert kinds this agent writes to the ledger. */
export const REVERT_KINDS = ["resume", "start"] as const;

/**
 * Reads resume data back from a ledger, which may come from another process or version.
 * @throws ChaosError("agent") when the data is not what `suspend` writes.
 */
function readResumeData(data: Record<string, unknown>): ResumeData {
  const processes = data.processes;
  const valid =
    Array.isArray(processes) &&
    processes.every(
      (p: Partial<ProcessIdentity> | null) =>
        typeof p === "object" &&
        p !== null &&
        Number.isInteger(p.pid) &&
        typeof p.startTime === "number" &&
        typeof p.comm === "string",
    );
  if (!valid) {
    throw new ChaosError("agent", "malformed resume entry: expected processes [{ pid, startTime, comm }]", {
      hint: "the ledger entry was not written by the process agent's suspend",
    });
  }
  return { bootId: typeof data.bootId === "string" ? data.bootId : undefined, processes };
}

/**
 * Sends SIGCONT to each recorded process that still exists with the same start time. Idempotent: a
 * running process ignores SIGCONT, and a process that exited (or whose pid was reused) is left alone.
 * @throws ChaosError("agent") for malformed data or a refused signal.
 */
async function resume(data: Record<string, unknown>, ctx: RevertContext): Promise<void> {
  const { bootId, processes } = readResumeData(data);
  const currentBoot = await readBootId();
  if (bootId && currentBoot && bootId !== currentBoot) {
    ctx.log.info({ pids: processes.map((p) => p.pid) }, "machine rebooted since suspend; nothing to resume");
    return;
  }
  await signalAll(processes, "SIGCONT", ctx.log);
}

/**
 * Undoes one fault of the process agent.
 * @throws ChaosError("agent") for a description of another agent, an unknown kind, malformed data, or a
 * signal that could not be sent.
 */
export async function revertProcessFault(revert: RevertDescription, ctx: RevertContext): Promise<void> {
  if (revert.agent !== "process") {
    throw new ChaosError("agent", `the process agent cannot revert a fault of agent "${revert.agent}"`);
  }
  if (revert.kind === "resume") return resume(revert.data, ctx);
  if (revert.kind === "start") return startIfDown(revert.data, ctx);
  throw new ChaosError("agent", `the process agent has no revert kind "${revert.kind}"`, {
    hint: `known kinds: ${REVERT_KINDS.join(", ")}`,
  });
}

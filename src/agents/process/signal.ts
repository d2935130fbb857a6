import { constants } from "node:os";
import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import { readStat } from "./proc.js";

/** Signal names this platform knows, e.g. SIGTERM, SIGKILL, SIGUSR1. */
export const SIGNAL_NAMES = Object.keys(constants.signals) as NodeJS.Signals[];

/** One process as recorded before it is touched: the pid plus the start time that tells it from a reuse. */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
  comm: string;
}

/**
 * Sends `signal` to the process only if its pid still names the same process (same start time). A process
 * that exited, or whose pid now belongs to another process, is reported as "gone" and left alone.
 * @throws ChaosError("agent") when the signal is refused (EPERM) or fails otherwise.
 */
export async function signalIfSame(p: ProcessIdentity, signal: NodeJS.Signals): Promise<"sent" | "gone"> {
  const now = await readStat(p.pid);
  if (!now || now.startTime !== p.startTime || now.state === "Z" || now.state === "X") return "gone";
  try {
    process.kill(p.pid, signal);
    return "sent";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return "gone";
    if (code === "EPERM") {
      throw new ChaosError("agent", `not permitted to send ${signal} to pid ${p.pid} (${p.comm})`, {
        hint: "run chaos as the user owning the process (or root)",
        cause: err,
      });
    }
    throw new ChaosError(
      "agent",
      `sending ${signal} to pid ${p.pid} (${p.comm}) failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * The lease keys of processes (see PreparedFault.locks): boot, pid and start time name one process, so a
 * lease never outlives it and never blocks the process that later reuses its pid.
 */
export function lockKeys(processes: readonly ProcessIdentity[], bootId: string | undefined): string[] {
  return processes.map((p) => `process:${bootId ?? "unknown-boot"}:${p.pid}:${p.startTime}`);
}

/** "4242 (node), 4243 (node)" for outputs and descriptions: comm only, since argv may hold secrets. */
export function listIdentities(processes: readonly ProcessIdentity[]): string {
  return processes.map((p) => `${p.pid} (${p.comm})`).join(", ");
}

/**
 * Signals every process (see `signalIfSame`) and logs each one.
 * @throws ChaosError("agent") at the first signal that is refused.
 */
export async function signalAll(
  processes: readonly ProcessIdentity[],
  signal: NodeJS.Signals,
  log: Logger,
): Promise<{ signalled: number[]; gone: number[] }> {
  const signalled: number[] = [];
  const gone: number[] = [];
  for (const p of processes) {
    const outcome = await signalIfSame(p, signal);
    (outcome === "sent" ? signalled : gone).push(p.pid);
    log.info(
      { pid: p.pid, comm: p.comm, signal, outcome },
      outcome === "sent" ? "signal sent" : "process gone",
    );
  }
  return { signalled, gone };
}

/**
 * Reads a signal name from validated arguments.
 * @throws ChaosError("invalid") for a name this platform does not know.
 */
export function readSignal(value: unknown, fallback: NodeJS.Signals): NodeJS.Signals {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (SIGNAL_NAMES as string[]).includes(value)) return value as NodeJS.Signals;
  throw new ChaosError("invalid", `unknown signal ${JSON.stringify(value)}`, {
    hint: `one of ${SIGNAL_NAMES.join(", ")}`,
  });
}

import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";

/**
 * The helper's side of the dead man's switch (see helper.ts). Once armed, the first of these undoes the
 * helper's work (`cleanup`) and ends the process:
 *   - its stdin reaches its end: the run stopped it, ended, or died (the kernel closes a dead run's pipe);
 *   - the deadline passes (a run that lives but hangs cannot keep a fault beyond it);
 *   - SIGTERM, SIGINT or SIGHUP (`chaos rollback` sends SIGTERM).
 * Exit code 0 when the cleanup succeeded, 1 when it did not (the run's revert then does it from outside).
 */
export function armDeadMansSwitch(opts: {
  deadline: number;
  log: Logger;
  cleanup(reason: string): Promise<void>;
}): void {
  let fired = false;
  const fire = (reason: string) => {
    if (fired) return;
    fired = true;
    opts.log.info({ reason }, "helper stopping: undoing its work");
    opts
      .cleanup(reason)
      .then(
        () => 0,
        (err: unknown) => {
          opts.log.error({ err: (err as Error).message }, "helper cleanup failed");
          return 1;
        },
      )
      .then((code) => process.exit(code));
  };
  process.stdin.on("end", () => fire("the run closed its pipe"));
  process.stdin.on("close", () => fire("the run closed its pipe"));
  process.stdin.on("error", () => fire("the run's pipe broke"));
  process.stdin.resume();
  // A dead run's closed pipes make our own writes fail: never a reason to die before the cleanup.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => fire(signal));
  const left = opts.deadline - Date.now();
  setTimeout(() => fire("deadline"), Math.max(0, left));
}

/** Tells the run the helper is ready, with what it wants the run to know (its listening port, say). */
export function reportReady(info: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ready: info })}\n`);
}

/** Tells the run why the helper could not start; it then undoes what it did and exits 1. */
export function reportFailure(err: unknown): void {
  const e =
    err instanceof ChaosError
      ? { message: err.message, hint: err.hint }
      : { message: String((err as Error)?.message ?? err) };
  process.stdout.write(`${JSON.stringify({ error: e })}\n`);
}

/**
 * Reads `--deadline` (epoch ms) from a helper's command line.
 * @throws ChaosError("invalid") when it is missing or not a time.
 */
export function readDeadline(value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new ChaosError(
      "invalid",
      `--deadline must be a time in epoch milliseconds, not ${JSON.stringify(value)}`,
    );
  }
  return n;
}

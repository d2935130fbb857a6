import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import type { Logger } from "pino";

/**
 * The body of `chaos ephemeral`, the process an ephemeral container runs: it starts the agent's helper
 * (`chaos intercept …`, `chaos stress …`) as its child, tied to its pipe, and stops it — the helper then
 * undoes its fault — at the first of:
 *   - its deadline (`--for` after it started: the fault's duration), whatever became of the run;
 *   - the stop file appearing (the run's early revert: `touch <file>` through pods/exec);
 *   - SIGTERM, SIGINT (the container being killed).
 * If this process itself dies, the helper's pipe closes and the helper stops on its own. Exits with the
 * helper's exit code (1 if it had to be killed).
 */
export async function runInPod(opts: {
  forMs: number;
  stopFile: string;
  /** The helper's command line after `chaos`. */
  helper: string[];
  log: Logger;
  /** The chaos CLI to run the helper with (default: this one). */
  entry?: string[];
  pollMs?: number;
}): Promise<number> {
  const started = Date.now();
  const deadline = started + opts.forMs;
  // A stop file from a previous life of this container must not stop the new helper at once.
  rmSync(opts.stopFile, { force: true });
  const [kind] = opts.helper;
  const args = [...opts.helper];
  if (kind === "intercept") args.push("--deadline", String(deadline));
  if (kind === "stress") args.push("--tied");
  const entry = opts.entry ?? [process.execPath, process.argv[1]!];
  const child = spawn(entry[0]!, [...entry.slice(1), ...args], { stdio: ["pipe", "inherit", "inherit"] });
  opts.log.info(
    { helper: kind, deadline: new Date(deadline).toISOString(), pid: child.pid },
    "helper started",
  );
  let stopping: string | undefined;
  // Killed by our own SIGTERM: it had not yet armed its handlers, so it had applied nothing.
  const exited = new Promise<number>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal === "SIGTERM" && stopping ? 0 : 1))),
  );
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = reason;
    opts.log.info({ reason }, "stopping the helper: it undoes its fault");
    child.kill("SIGTERM");
    const hard = setTimeout(() => child.kill("SIGKILL"), 20_000);
    hard.unref();
  };
  const onSignal = (s: string) => stop(s);
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  const timer = setTimeout(() => stop("deadline"), Math.max(0, deadline - Date.now()));
  const poll = setInterval(() => {
    if (existsSync(opts.stopFile)) stop("stop file");
  }, opts.pollMs ?? 250);
  const code = await exited;
  clearTimeout(timer);
  clearInterval(poll);
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  opts.log.info({ code, reason: stopping ?? "the helper ended", ms: Date.now() - started }, "helper exited");
  return code;
}

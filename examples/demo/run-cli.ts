import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built CLI, next to this file in dist/. */
export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface CliRun {
  /** Settles with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Sends a signal to the run (it reverts its faults and exits 3 on the first SIGINT). Never throws. */
  signal(sig: NodeJS.Signals): void;
}

/**
 * Starts `chaos run FILE` with its output on this terminal. It runs in a process group of its own, so a
 * Ctrl-C reaches it once, forwarded by the caller, not also straight from the terminal.
 * @throws Error when the CLI was not built.
 */
export function startRun(
  file: string,
  opts: { journal: string; ledger: string; env: Record<string, string> },
): CliRun {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing; run \`npm run build\` first`);
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, "run", file, "--journal", opts.journal, "--ledger", opts.ledger, "--log-level", "warn"],
    { env: { ...process.env, ...opts.env }, stdio: ["ignore", "inherit", "inherit"], detached: true },
  );
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", () => resolve(null));
    child.once("exit", (code) => resolve(code));
  });
  // Should this process die without its handlers (e.g. a third Ctrl-C), the run must not outlive it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => process.removeListener("exit", killOnExit));
  return {
    exited,
    signal(sig) {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
  };
}

export interface JournalSummary {
  status: string;
  reasons: string[];
}

/** The verdict a run wrote, or undefined when it wrote no journal. Never throws. */
export function readVerdict(journal: string): JournalSummary | undefined {
  try {
    const parsed = JSON.parse(readFileSync(journal, "utf8")) as JournalSummary;
    return { status: parsed.status, reasons: parsed.reasons };
  } catch {
    return undefined;
  }
}

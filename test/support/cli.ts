import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The nearest folder holding package.json and tsconfig.json: the repository root, from the sources or from
 * dist/ (which holds a copy of package.json, but no tsconfig.json).
 */
function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "tsconfig.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository root above ${from}`);
  }
}

/** The repository root, whatever the working directory of the test run (also when run from dist/). */
export const ROOT = repositoryRoot(dirname(fileURLToPath(import.meta.url)));
/** The built CLI, exactly as `npm install -g` would run it. */
export const CLI = join(ROOT, "dist", "src", "cli", "main.js");

const LOCK = join(ROOT, "dist", ".cli-build.lock");
const STALE_LOCK_MS = 120_000;

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(p));
    else if (/\.(ts|json)$/.test(entry.name) && !entry.name.endsWith(".test.ts"))
      newest = Math.max(newest, (await stat(p)).mtimeMs);
  }
  return newest;
}

function tsc(): Promise<string> {
  return new Promise((done) => {
    // tsc emits even when other files have type errors: only a missing main.js counts as a failed build.
    execFile(
      process.execPath,
      [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
      { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (_err, stdout, stderr) => done(`${stdout}${stderr}`),
    );
  });
}

/**
 * Builds dist/ once for several test files running in parallel (a lock folder serialises the builds) and
 * skips the build when dist/src/cli/main.js is newer than every source file.
 * @throws Error with the compiler output when dist/src/cli/main.js is missing after the build.
 */
export async function ensureCliBuilt(): Promise<void> {
  const deadline = Date.now() + 150_000;
  await mkdir(dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch {
      const age = existsSync(LOCK) ? Date.now() - statSync(LOCK).mtimeMs : 0;
      if (age > STALE_LOCK_MS) await rm(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${LOCK}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const built = existsSync(CLI) ? statSync(CLI).mtimeMs : 0;
    const newest = Math.max(
      await newestSource(join(ROOT, "src")),
      statSync(join(ROOT, "package.json")).mtimeMs,
    );
    if (built > newest) return;
    const output = await tsc();
    if (!existsSync(CLI)) throw new Error(`the build did not produce ${CLI}:\n${output}`);
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed by the helper because it outlived its timeout. */
  timedOut: boolean;
}

export interface CliOptions {
  cwd?: string;
  /** Extra environment; CHAOS_LEDGER is removed so that a test always names its ledger. */
  env?: NodeJS.ProcessEnv;
  /** The process is killed (SIGKILL) after this long; default 30 s. */
  timeoutMs?: number;
}

/** A CLI process started in the background, for tests that signal it mid-run. */
export interface CliProcess {
  child: ChildProcess;
  pid: number;
  /** Settles when the process has exited (and has been reaped). */
  result: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
}

/**
 * Starts `node dist/src/cli/main.js ...args` with stdout and stderr collected.
 * @throws Error when the process cannot be spawned.
 */
export function startCli(args: string[], opts: CliOptions = {}): CliProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...opts.env };
  delete env.CHAOS_LEDGER;
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error("could not spawn the CLI");
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr?.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, opts.timeoutMs ?? 30_000);
  const result = new Promise<CliResult>((done, fail) => {
    child.once("error", fail);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, timedOut });
    });
  });
  return { child, pid: child.pid, result, stdout: () => stdout, stderr: () => stderr };
}

/**
 * Runs the CLI to completion.
 * @throws Error when the process cannot be spawned.
 */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).result;
}

/** Stops a CLI process a test left running; harmless when it already exited. */
export async function stopCli(cli: CliProcess | undefined): Promise<void> {
  if (!cli || cli.child.exitCode !== null || cli.child.signalCode !== null) return;
  cli.child.kill("SIGKILL");
  await cli.result.catch(() => undefined);
}

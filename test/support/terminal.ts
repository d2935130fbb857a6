import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe } from "vitest";
import { CLI, ROOT } from "./cli.js";

/**
 * The CLI in a real pseudo-terminal: a tmux server of its own (its own socket, never the user's), one
 * window running `chaos …`, driven by typed keys and read back from the screen.
 */

function hasTmux(): boolean {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** `describe` when tmux is installed or in CI (where its absence must fail), else `describe.skip`. */
export const describeWithTerminal = hasTmux() || process.env.CI ? describe : describe.skip;

export interface Terminal {
  /** The whole screen and its scroll-back, lines joined as the program wrote them. */
  screen(): Promise<string>;
  /** The screen and its scroll-back as a person sees it: one entry per row, wrapped lines apart. */
  rows(): Promise<string[]>;
  /** Types text and presses Enter. */
  type(text: string): Promise<void>;
  /** Presses one key, in tmux's names (`C-c`, `Enter`). */
  press(key: string): Promise<void>;
  /** Resolves with the screen once it matches; rejects with the screen after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The exit code once the program has ended; rejects with the screen after `timeoutMs`. */
  exitCode(timeoutMs?: number): Promise<number>;
  /** Stops this terminal's tmux server (and whatever still runs in it). Idempotent. */
  close(): Promise<void>;
}

let sessions = 0;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function tmux(socket: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("tmux", ["-L", socket, ...args], { timeout: 10_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
}

/**
 * Starts `node dist/src/cli/main.js ...args` in a terminal of `columns`×`rows` (default 160×50); `dir`
 * receives its exit code.
 * @throws Error when tmux cannot start.
 */
export async function startInTerminal(
  args: string[],
  opts: { cwd: string; dir: string; columns?: number; rows?: number; env?: Record<string, string> },
): Promise<Terminal> {
  const socket = `chaos-test-${process.pid}-${++sessions}`;
  const exitFile = join(opts.dir, `exit-${sessions}`);
  const command = [
    `cd ${quote(opts.cwd)}`,
    `env -u CHAOS_LEDGER NO_COLOR=1 ${Object.entries(opts.env ?? {})
      .map(([k, v]) => `${k}=${quote(v)} `)
      .join("")}${quote(process.execPath)} ${quote(CLI)} ${args.map(quote).join(" ")}`,
    `echo $? > ${quote(exitFile)}`,
    "exec sleep 600",
  ].join("; ");
  await tmux(socket, [
    "-f",
    "/dev/null",
    "new-session",
    "-d",
    "-x",
    String(opts.columns ?? 160),
    "-y",
    String(opts.rows ?? 50),
    "-c",
    ROOT,
    command,
  ]);
  let closed = false;
  const screen = () => tmux(socket, ["capture-pane", "-p", "-J", "-S", "-3000"]);
  const poll = async <T>(what: string, read: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (v !== undefined) return v;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; the screen:\n${await screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    screen,
    rows: async () =>
      (await tmux(socket, ["capture-pane", "-p", "-S", "-3000"])).replace(/\n+$/, "").split("\n"),
    type: async (text) => {
      await tmux(socket, ["send-keys", "-l", text]);
      await tmux(socket, ["send-keys", "Enter"]);
    },
    press: async (key) => void (await tmux(socket, ["send-keys", key])),
    waitFor: (pattern, timeoutMs = 15_000) =>
      poll(
        String(pattern),
        async () => {
          const s = await screen();
          return pattern.test(s) ? s : undefined;
        },
        timeoutMs,
      ),
    exitCode: (timeoutMs = 30_000) =>
      poll(
        "the exit code",
        async () =>
          existsSync(exitFile) && readFileSync(exitFile, "utf8").trim()
            ? Number(readFileSync(exitFile, "utf8"))
            : undefined,
        timeoutMs,
      ),
    close: async () => {
      if (closed) return;
      closed = true;
      await tmux(socket, ["kill-server"]).catch(() => undefined);
    },
  };
}

import { closeSync, readFileSync } from "node:fs";
import { isatty } from "node:tty";
import type { Redactor } from "../experiments/redact.js";

/**
 * Control characters a terminal would act on (`\n` and `\t` are kept), and the invisible ones that change
 * how text reads: bidirectional overrides and isolates (U+202E turns `exe.txt` into `txt.exe`), zero-width
 * spaces and marks, the byte-order mark. The zero-width joiner stays: emoji sequences are made with it.
 */
const CONTROL =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
/** The colour codes the CLI itself prints (when stdout is a terminal). */
const SGR = /\u001b\[[0-9;]*m/g;
/** A chunk that is nothing but CSI sequences (cursor moves, line and screen clears). */
const CURSOR_ONLY = /^(?:\u001b\[[0-9;?]*[A-Za-z])+$/;

/**
 * `text` with every control character written as a visible escape (`\u001b`, `\u0000`), so that a title,
 * key or file name cannot move the cursor, clear the screen or hide text. With `keepColors`, plain colour
 * codes (ESC [ digits m) pass: they are what the CLI paints with and cannot do more than colour.
 */
export function terminalSafe(text: string, keepColors = false): string {
  const visible = (s: string) =>
    s.replace(CONTROL, (c) => (c === "\r" ? "\\r" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
  // A write made of cursor-control sequences alone is the line editor's (readline moving the cursor at a
  // prompt), never a title or a key, which always come with text around them.
  if (keepColors && CURSOR_ONLY.test(text)) return text;
  if (!keepColors || !text.includes("\u001b")) return visible(text);
  let out = "";
  let last = 0;
  for (const m of text.matchAll(SGR)) {
    out += visible(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + visible(text.slice(last));
}

/**
 * Routes every byte the process writes to stdout and stderr through `redactor` and `terminalSafe`, and makes
 * a failed write (a full disk, `2>/dev/full`, a closed pipe) harmless: output is best effort, the verdict and
 * the exit code never depend on it.
 */
export function guardOutput(redactor: Redactor): void {
  ttyFds = [0, 1, 2].filter((fd) => isatty(fd));
  process.once("exit", releaseDeadTerminal);
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: string, ...rest: unknown[]) => boolean;
    const keepColors = stream.isTTY === true;
    redrawers.set(stream, (control, text = "") => {
      try {
        if (!closed(stream)) write(control + terminalSafe(redactor.text(text), keepColors));
      } catch {
        // Output is best effort, as below.
      }
    });
    stream.on("error", (err: NodeJS.ErrnoException) => {
      // The terminal or the reader is gone: every later write would fail the same way, so none is made.
      if (err.code === "EIO" || err.code === "EPIPE") {
        dead.add(stream);
        if (stream.isTTY) terminalGone = true;
      }
    });
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      try {
        if (closed(stream)) return true;
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
        return write(terminalSafe(redactor.text(text), keepColors), ...rest);
      } catch {
        return true;
      }
    }) as typeof stream.write;
  }
}

const dead = new WeakSet<NodeJS.WriteStream>();
let terminalGone = false;
const closed = (stream: NodeJS.WriteStream) => stream.destroyed || dead.has(stream);

/** Whether `stream` can no longer be written (EIO from a closed terminal, EPIPE): a redraw loop stops. */
export function isClosed(stream: NodeJS.WriteStream): boolean {
  return closed(stream);
}

/**
 * The controlling terminal hung up (SIGHUP, or EIO on a write): nothing more is written to it, and at exit
 * its descriptors are closed first. Node restores a terminal's modes on exit and aborts with a native stack
 * trace when that fails with EIO; a closed descriptor it skips.
 */
export function terminalHungUp(): void {
  if (!lostControllingTerminal()) return;
  terminalGone = true;
  for (const stream of [process.stdout, process.stderr]) if (stream.isTTY) dead.add(stream);
}

/**
 * A hung-up terminal is taken from its session, so /proc shows no controlling terminal any more (tty_nr 0);
 * a SIGHUP sent by hand leaves it in place, and the run keeps printing.
 */
function lostControllingTerminal(): boolean {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[4] === "0";
  } catch {
    return false;
  }
}

/** The standard descriptors that were a terminal at start (after a hang-up, isatty() says no). */
let ttyFds: number[] = [];

function releaseDeadTerminal(): void {
  if (!ttyFds.length || (!terminalGone && !lostControllingTerminal())) return;
  for (const fd of ttyFds) {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}

const redrawers = new WeakMap<NodeJS.WriteStream, (control: string, text?: string) => void>();

/**
 * Writes `control` — a renderer's own cursor moves and clears, for a block redrawn in place on a terminal —
 * as it is, then `text` made safe like every other byte (redacted, control characters escaped). On a stream
 * the guard does not hold (a test's), a plain write.
 */
export function writeRedrawn(stream: NodeJS.WriteStream, control: string, text = ""): void {
  const redraw = redrawers.get(stream);
  if (redraw) redraw(control, text);
  else stream.write(control + text);
}

/** What a line editor and an in-place countdown move the cursor with: carriage returns and CSI sequences. */
const CURSOR = /\r|\u001b\[[0-9;?]*[A-Za-z]/g;

/**
 * `stream` as a prompt writes to it (readline, a countdown redrawn with `\r`): its own carriage returns and
 * cursor moves pass as they are, every piece of text between them is made safe like any other byte. Give it
 * to `createInterface({ output })`; on a stream the guard does not hold, the stream itself.
 */
export function interactiveOutput(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  const redraw = redrawers.get(stream);
  if (!redraw) return stream;
  const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    let last = 0;
    for (const m of text.matchAll(CURSOR)) {
      if (m.index > last) redraw("", text.slice(last, m.index));
      redraw(m[0]);
      last = m.index + m[0].length;
    }
    if (last < text.length) redraw("", text.slice(last));
    const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    done?.();
    return true;
  };
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === "write") return write;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

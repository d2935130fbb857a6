import type { Redactor } from "../experiments/redact.js";

/** Control characters a terminal would act on; `\n` and `\t` are kept. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
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
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: string, ...rest: unknown[]) => boolean;
    const keepColors = stream.isTTY === true;
    redrawers.set(stream, (control, text) => {
      try {
        if (!stream.destroyed) write(control + terminalSafe(redactor.text(text), keepColors));
      } catch {
        // Output is best effort, as below.
      }
    });
    stream.on("error", () => undefined);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      try {
        if (stream.destroyed) return true;
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
        return write(terminalSafe(redactor.text(text), keepColors), ...rest);
      } catch {
        return true;
      }
    }) as typeof stream.write;
  }
}

const redrawers = new WeakMap<NodeJS.WriteStream, (control: string, text: string) => void>();

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

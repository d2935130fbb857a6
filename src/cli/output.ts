export const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const bold = paint(1);
export const dim = paint(2);

let lines: NodeJS.WriteStream = process.stdout;

/**
 * Prints one line on stdout (on stderr once linesToStderr() was called); at a terminal, wrapped between
 * words to its width.
 */
export function say(line: string): void {
  const width = lines.isTTY ? lines.columns : undefined;
  if (!width) lines.write(`${line}\n`);
  else
    lines.write(
      `${line
        .split("\n")
        .flatMap((l) => wrapLine(l, width))
        .join("\n")}\n`,
    );
}

const len = (s: string) => [...s].length;
const visible = (s: string) => len(s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ""));

/**
 * A line of the output (colours allowed) wrapped at spaces for a terminal `width` wide: the lines after the
 * first are indented two more than it, so no word is broken by the terminal's own wrap.
 */
export function wrapLine(line: string, width: number): string[] {
  if (!Number.isFinite(width) || visible(line) <= width) return [line];
  const indent = " ".repeat(Math.min(len(/^ */.exec(line)![0]) + 2, Math.floor(width / 2)));
  const out: string[] = [];
  let current = "";
  for (const word of line.trimStart().split(" ")) {
    const head = out.length ? indent : " ".repeat(len(/^ */.exec(line)![0]));
    if (!current) current = head + word;
    else if (visible(current) + 1 + visible(word) <= width) current += ` ${word}`;
    else {
      out.push(current);
      current = indent + word;
    }
  }
  out.push(current);
  return out;
}

/** Keeps stdout for one document (`chaos run --json`): every human line goes to stderr from now on. */
export function linesToStderr(): void {
  lines = process.stderr;
}

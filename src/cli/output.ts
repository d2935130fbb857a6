export const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const bold = paint(1);
export const dim = paint(2);

let lines: NodeJS.WriteStream = process.stdout;

/** Prints one line on stdout (on stderr once linesToStderr() was called). */
export function say(line: string): void {
  lines.write(`${line}\n`);
}

/** Keeps stdout for one document (`chaos run --json`): every human line goes to stderr from now on. */
export function linesToStderr(): void {
  lines = process.stderr;
}

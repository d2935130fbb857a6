import { figuresOf, figuresText } from "../experiments/checks.js";
import { formatDuration } from "../experiments/duration.js";
import type { Journal } from "../experiments/journal.js";
import { faultRows, probeTableCells } from "../experiments/report/probe-table.js";
import { STATUS_LABEL } from "../experiments/report/summary.js";
import type { Paint } from "./event-lines.js";
import { wrapLine } from "./output.js";

/** Left-aligned columns, two spaces apart. */
export function columns(rows: string[][]): string[] {
  return fitColumns(rows, Number.POSITIVE_INFINITY).map((lines) => lines.join("\n"));
}

const len = (s: string) => [...s].length;

/** Splits `text` into lines of at most `width` characters at spaces; a word longer than `width` is cut with "…". */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const w = len(word) > width ? `${[...word].slice(0, Math.max(1, width - 1)).join("")}…` : word;
    if (!line) line = w;
    else if (len(line) + 1 + len(w) <= width) line += ` ${w}`;
    else {
      lines.push(line);
      line = w;
    }
  }
  lines.push(line);
  return lines;
}

/**
 * Left-aligned columns, two spaces apart, laid out for `width` characters: the columns named in `drop` are
 * left out first (in that order), then the columns named in `wrap` are narrowed, their cells wrapped at
 * spaces onto more lines, so that no word is ever broken across lines. Returns each row's lines (the first
 * row is the header). A column's index is its index in `rows`.
 */
export function fitColumns(
  rows: string[][],
  width: number,
  opts: { drop?: number[]; wrap?: number[] } = {},
): string[][] {
  const count = Math.max(0, ...rows.map((r) => r.length));
  let keep = [...Array(count).keys()];
  const widthsOf = () =>
    keep.map((c) => Math.max(0, ...rows.map((r) => (r[c] === undefined ? 0 : len(r[c]!)))));
  const total = (ws: number[]) => ws.reduce((a, b) => a + b, 0) + 2 * Math.max(0, ws.length - 1);
  for (const c of opts.drop ?? []) {
    if (total(widthsOf()) <= width) break;
    keep = keep.filter((k) => k !== c);
  }
  const widths = widthsOf();
  for (const c of opts.wrap ?? []) {
    const over = total(widths) - width;
    if (over <= 0) break;
    const i = keep.indexOf(c);
    if (i < 0) continue;
    // never narrower than the column's header or 8 characters
    const header = len(rows[0]?.[c] ?? "");
    widths[i] = Math.min(widths[i]!, Math.max(widths[i]! - over, header, 8));
  }
  return rows.map((r) => {
    const cells = keep.map((c, i) => wrapWords(r[c] ?? "", widths[i]!));
    const height = Math.max(...cells.map((x) => x.length));
    return [...Array(height).keys()].map((k) =>
      cells
        .map((x, i) => {
          const t = x[k] ?? "";
          return i === cells.length - 1 ? t : t + " ".repeat(Math.max(0, widths[i]! - len(t)));
        })
        .join("  ")
        .trimEnd(),
    );
  });
}

/** The verdict line alone: what `--quiet` prints. */
export function verdictLine(j: Journal, p: Paint): string {
  const { score } = figuresOf(j);
  const paint =
    j.status === "held" ? p.green : j.status === "aborted" || j.status === "completed" ? p.yellow : p.red;
  return `${p.bold("verdict:")} ${paint(p.bold(STATUS_LABEL[j.status]))} ${p.dim(`(exit ${j.exitCode}, ${formatDuration(j.durationMs)}${score === undefined ? "" : `, resilience score ${score}%`})`)}`;
}

/**
 * The closing summary, as k6 ends a run: each probe with its checks per phase, worst value and tolerance; the
 * faults with their windows; the checks and the resilience score; the verdict with its reasons; the files.
 */
export function summaryLines(
  j: Journal,
  files: string[],
  p: Paint,
  width = Number.POSITIVE_INFINITY,
): string[] {
  const out: string[] = [""];
  const indented = (rows: string[][]) =>
    rows.flatMap((lines, i) => lines.map((l) => `  ${i === 0 ? p.dim(l) : l}`));
  const probes = probeTableCells(j);
  if (probes.length) {
    const header = ["probe", "kind", "before", "during", "after", "worst", "tolerance"];
    const natural = columns([header, ...probes]).every((l) => len(l) + 2 <= width);
    // Narrow: the kind column goes, a stop condition says so after its name; long cells wrap at spaces.
    const rows = natural
      ? probes
      : probes.map(([name, kind, ...rest]) => [
          kind === "stop condition" ? `${name} (stop condition)` : name!,
          kind!,
          ...rest,
        ]);
    out.push(...indented(fitColumns([header, ...rows], width - 2, { drop: [1], wrap: [0, 6, 5] })), "");
  }
  const faults = faultRows(j);
  if (faults.length) {
    out.push(
      ...indented(
        fitColumns(
          [["fault", "live", "undo"], ...faults.map((f) => [f.fault, f.window, f.undo])],
          width - 2,
          {
            wrap: [2, 0, 1],
          },
        ),
      ),
      "",
    );
  }
  out.push(`  ${figuresText(j)}`, "", verdictLine(j, p));
  for (const r of j.reasons) out.push(`  - ${r}`);
  for (const f of files) out.push(`  ${p.dim(f)}`);
  return out.flatMap((l) => wrapLine(l, width));
}

/** One row of the demo's summary. */
export interface RunSummary {
  experiment: string;
  /** "resilient" or "fragile: breaker". */
  variant: string;
  verdict: string;
  expected: string;
  journal: string;
  report: string;
}

const isExpected = (r: RunSummary) => r.verdict === r.expected;

/** True when every run ended with the verdict it should have. Never throws. */
export function allAsExpected(rows: readonly RunSummary[]): boolean {
  return rows.length > 0 && rows.every(isExpected);
}

function cells(r: RunSummary): string[] {
  return [
    r.experiment,
    r.variant,
    r.verdict,
    isExpected(r) ? "yes" : `NO (expected ${r.expected})`,
    r.journal,
    r.report,
  ];
}

const HEADER = ["experiment", "app", "verdict", "expected?", "journal", "report"];

/** The summary as an aligned plain-text table. Never throws. */
export function summaryTable(rows: readonly RunSummary[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(table[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...table.slice(1).map(line)].join(
    "\n",
  );
}

/** The summary as a Markdown document. Never throws. */
export function summaryMarkdown(
  rows: readonly RunSummary[],
  meta: { started: Date; seconds: number },
): string {
  const mdCell = (cell: string) => cell.replaceAll("|", "\\|");
  return [
    "# chaoskit demo",
    "",
    `Run ${meta.started.toISOString()}, ${meta.seconds.toFixed(0)} s. ` +
      (allAsExpected(rows)
        ? "Every verdict was the expected one."
        : "**At least one verdict was not the expected one.**"),
    "",
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${cells(r).map(mdCell).join(" | ")} |`),
    "",
  ].join("\n");
}

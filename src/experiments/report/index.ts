import { join } from "node:path";
import type { Journal } from "../journal.js";
import { makeDir } from "../make-dir.js";
import { writeFileSafely } from "../output-file.js";
import { renderHtml } from "./html.js";
import { renderJUnit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";

export type ReportFormat = "markdown" | "junit" | "html";

export const REPORT_FORMATS: readonly ReportFormat[] = ["markdown", "junit", "html"];

const RENDERERS: Record<ReportFormat, { file: string; render: (j: Journal) => string }> = {
  markdown: { file: "report.md", render: renderMarkdown },
  junit: { file: "junit.xml", render: renderJUnit },
  html: { file: "report.html", render: renderHtml },
};

/** The file names of the reports, as written beside a journal. */
export const REPORT_FILES: readonly string[] = Object.values(RENDERERS).map((r) => r.file);

export { checkJournal, readJournal } from "./read.js";
export { renderHtml, renderJUnit, renderMarkdown };

/**
 * Writes the reports of a journal into `dir` (created if missing): report.md, junit.xml, report.html, or
 * only the formats asked for. Returns what it wrote, in the order asked.
 * @throws the file system's error when the folder or a file cannot be written.
 */
export async function writeReports(
  j: Journal,
  dir: string,
  formats: readonly ReportFormat[] = REPORT_FORMATS,
): Promise<{ format: string; path: string }[]> {
  await makeDir(dir);
  const written: { format: string; path: string }[] = [];
  for (const format of [...new Set(formats)]) {
    const { file, render } = RENDERERS[format];
    const path = join(dir, file);
    await writeFileSafely(path, render(j), `${format} report`);
    written.push({ format, path });
  }
  return written;
}

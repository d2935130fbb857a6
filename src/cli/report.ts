import { dirname, join } from "node:path";
import type { CommandModule } from "yargs";
import { ChaosError } from "../experiments/errors.js";
import { checkWritableFolder, writeFileSafely } from "../experiments/output-file.js";
import {
  REPORT_FORMATS,
  type ReportFormat,
  readJournal,
  renderHtml,
  renderJUnit,
  renderMarkdown,
  writeReports,
} from "../experiments/report/index.js";
import { renderSuiteHtml } from "../experiments/report/overview.js";
import { renderSuiteMarkdown } from "../experiments/report/suite.js";
import { say } from "./output.js";

interface ReportArgs {
  journals: string[];
  out?: string;
  format?: string[];
}

/** `md` is accepted for `markdown`, as people type it. */
const ALIASES: Record<string, ReportFormat> = { md: "markdown", xml: "junit" };
const formatOf = (f: string): ReportFormat => ALIASES[f] ?? (f as ReportFormat);

/**
 * Renders the reports of journal files. One journal: its reports into `out` (default: the journal's folder),
 * or the one format asked for on stdout with `--out -`. Several: one combined summary.md, junit.xml and summary.html (each run's score over time).
 * @throws ChaosError("invalid") when a journal cannot be read or does not follow the journal schema, or for
 *   `--out -` with other than one format; the file system's error when a
 *   report cannot be written.
 */
export async function runReport(args: ReportArgs): Promise<{ format: string; path: string }[]> {
  // yargs hands `--out -` over as an empty string; an empty folder name means nothing else.
  if (args.out === "") args = { ...args, out: "-" };
  const journals = await Promise.all(args.journals.map(readJournal));
  const formats = args.format?.length ? [...new Set(args.format.map(formatOf))] : undefined;
  if (journals.length === 1 && args.out !== "-") {
    const dir = args.out ?? dirname(args.journals[0]!);
    await checkWritableFolder(dir, "reports", "pass --out with a writable folder");
    return writeReports(journals[0]!, dir, formats ?? REPORT_FORMATS);
  }
  const combined: Partial<Record<ReportFormat, { file: string; text: () => string }>> = {
    markdown: { file: "summary.md", text: () => renderSuiteMarkdown(journals) },
    junit: { file: "junit.xml", text: () => renderJUnit(journals) },
    html: { file: "summary.html", text: () => renderSuiteHtml(journals) },
  };
  if (journals.length === 1) {
    combined.markdown = { file: "report.md", text: () => renderMarkdown(journals[0]!) };
    combined.html = { file: "report.html", text: () => renderHtml(journals[0]!) };
  }
  const wanted = formats ?? REPORT_FORMATS;
  if (args.out === "-") {
    if (wanted.length !== 1)
      throw new ChaosError("invalid", "--out - prints one report: name it with --format", {
        hint: "e.g. chaos report run/journal.json --format md --out -",
      });
    process.stdout.write(combined[wanted[0]!]!.text());
    return [];
  }
  const dir = args.out ?? ".";
  await checkWritableFolder(dir, "reports", "pass --out with a writable folder");
  const written: { format: string; path: string }[] = [];
  for (const f of wanted) {
    const r = combined[f]!;
    const path = join(dir, r.file);
    // Never through a symlink planted in the folder, nor over a FIFO or a device.
    await writeFileSafely(path, r.text(), `${f} report`);
    written.push({ format: f, path });
  }
  return written;
}

/** `chaos report JOURNAL... [--out DIR|-] [--format markdown|md|junit|html ...]` */
export const reportCommand: CommandModule<object, ReportArgs> = {
  command: "report <journals..>",
  describe:
    "render the Markdown, JUnit and HTML reports of a journal.json; several journals: one combined summary with each experiment's score over time",
  builder: (y) =>
    y
      .positional("journals", {
        type: "string",
        array: true,
        demandOption: true,
        describe: "the journal.json files runs wrote",
      })
      .option("out", {
        type: "string",
        describe:
          "folder for the reports (default: the journal's folder; the current one for several); - for stdout",
      })
      .option("format", {
        type: "string",
        array: true,
        choices: [...REPORT_FORMATS, "md"],
        describe: "report formats to write (default: all)",
      }) as never,
  handler: async (argv) => {
    for (const { path } of await runReport(argv)) say(path);
  },
};

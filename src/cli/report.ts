import { dirname } from "node:path";
import type { CommandModule } from "yargs";
import { REPORT_FORMATS, type ReportFormat, readJournal, writeReports } from "../experiments/report/index.js";
import { say } from "./output.js";

interface ReportArgs {
  journal: string;
  out?: string;
  format?: ReportFormat[];
}

/**
 * Renders the reports of a journal file into `out` (default: the journal's folder).
 * @throws ChaosError("invalid") when the journal cannot be read or does not follow the journal schema;
 *   the file system's error when a report cannot be written.
 */
export async function runReport(args: ReportArgs): Promise<{ format: string; path: string }[]> {
  const journal = await readJournal(args.journal);
  return writeReports(
    journal,
    args.out ?? dirname(args.journal),
    args.format?.length ? args.format : REPORT_FORMATS,
  );
}

/** `chaos report JOURNAL [--out DIR] [--format markdown|junit|html ...]` */
export const reportCommand: CommandModule<object, ReportArgs> = {
  command: "report <journal>",
  describe: "render the Markdown, JUnit and HTML reports of a journal.json",
  builder: (y) =>
    y
      .positional("journal", { type: "string", demandOption: true, describe: "the journal.json a run wrote" })
      .option("out", { type: "string", describe: "folder for the reports (default: the journal's folder)" })
      .option("format", {
        type: "string",
        array: true,
        choices: REPORT_FORMATS,
        describe: "report formats to write (default: all)",
      }),
  handler: async (argv) => {
    for (const { path } of await runReport(argv)) say(path);
  },
};

import { readFile } from "node:fs/promises";
import type { CommandModule } from "yargs";
import { ValidationErrors } from "../experiments/errors.js";
import { blindnessText } from "../experiments/evidence.js";
import { loadExperiment } from "../experiments/load.js";
import { unobservableFaults, type Warning } from "../experiments/observability.js";
import { SourceFile } from "../experiments/source.js";
import { isRunbookFile, loadRunbook } from "../gameday/load.js";
import { type CliContext, cliContext, exitWith, type GlobalArgs, inputFiles, printError } from "./context.js";
import { dim, green, say, yellow } from "./output.js";

interface Args extends GlobalArgs {
  files: string[];
}

/** Validates every file and reports every problem of every file; exit 2 if any. */
export async function validateFiles(files: string[], { registry, maxBytes }: CliContext): Promise<number> {
  let bad = 0;
  for (const file of files) {
    try {
      // Standard input is read once, so it can only be an experiment.
      if (file !== "-" && (await isRunbookFile(file, maxBytes))) {
        await loadRunbook(file, { registry, maxBytes });
        say(`${green("✓")} ${file}`);
        continue;
      }
      const experiment = await loadExperiment(file, { registry, maxBytes });
      say(`${green("✓")} ${file === "-" ? "<stdin>" : file}`);
      // A stop condition that cannot see must not pass silently: say what each does then.
      for (const c of experiment.stopWhen) say(dim(`  stop condition "${c.name}" ${blindnessText(c)}`));
      await printWarnings(file, unobservableFaults(experiment));
    } catch (err) {
      bad++;
      printError(err);
      if (!(err instanceof ValidationErrors)) continue;
    }
  }
  return bad ? 2 : 0;
}

/** Warnings do not fail validation: each says where (file:line:col) and how to fix it. */
async function printWarnings(file: string, warnings: Warning[]): Promise<void> {
  if (!warnings.length) return;
  const source =
    file === "-"
      ? undefined
      : await readFile(file, "utf8").then(
          (t) => new SourceFile(file, t),
          () => undefined,
        );
  for (const w of warnings) {
    const at = source?.locate(w.path, { key: true });
    say(`  ${yellow("⚠ warning")} ${at ? `${file}:${at.line}:${at.col}: ` : ""}${w.message}`);
    say(`    ${w.hint}`);
  }
}

export const validateCommand: CommandModule<GlobalArgs, Args> = {
  command: "validate <files..>",
  describe:
    "check experiment and runbook files (YAML, schema, every action's and probe's arguments, PromQL); exit 2 on any error",
  builder: (y) =>
    y.positional("files", {
      type: "string",
      array: true,
      demandOption: true,
      describe:
        "experiment or runbook files (a runbook has top-level steps; - reads an experiment from standard input)",
    }) as never,
  handler: (args) => exitWith(() => validateFiles(inputFiles(args.files), cliContext(args))),
};

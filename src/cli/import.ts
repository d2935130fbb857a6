import { dirname, relative, resolve } from "node:path";
import type { CommandModule } from "yargs";
import { importCtk } from "../experiments/ctk/import.js";
import { readInput } from "../experiments/input.js";
import { experimentSchemaPath, writeNewFile } from "../init/scaffold.js";
import { cliContext, exitWith, type GlobalArgs } from "./context.js";
import { green, say } from "./output.js";
import { STRATEGY_OPTIONS, type StrategyArgs, strategyOf } from "./strategy.js";

interface Args extends GlobalArgs, StrategyArgs {
  file: string;
  out?: string;
  force: boolean;
}

export const importCommand: CommandModule<GlobalArgs, Args> = {
  command: "import <file>",
  describe:
    "convert a Chaos Toolkit experiment (JSON or YAML) into ours, with comments where the mapping is not one to one; exit 2 if it cannot be",
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true, describe: "the Chaos Toolkit experiment" })
      .option("out", { type: "string", describe: "write the experiment here (default: standard output)" })
      .option("force", { type: "boolean", default: false, describe: "overwrite --out if it exists" })
      .options(STRATEGY_OPTIONS) as never,
  handler: (args) =>
    exitWith(async () => {
      const { registry, maxBytes } = cliContext(args);
      const text = await readInput(args.file, maxBytes);
      const out = args.out ?? "<stdout>";
      const schema = relative(args.out ? dirname(resolve(args.out)) : process.cwd(), experimentSchemaPath())
        .split("\\")
        .join("/");
      const yaml = importCtk(args.file, text, { registry, out, schema, strategy: strategyOf(args) });
      if (!args.out) {
        process.stdout.write(yaml);
        return 0;
      }
      await writeNewFile(args.out, yaml, args.force);
      say(`${green("✓")} ${args.out} (from ${args.file})`);
      return 0;
    }),
};

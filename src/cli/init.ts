import { createInterface } from "node:readline/promises";
import type { CommandModule } from "yargs";
import { ChaosError } from "../experiments/errors.js";
import { findTemplate, scaffold, writeNewFile } from "../init/scaffold.js";
import type { Template, TemplateValues, ValueName } from "../init/template.js";
import { TEMPLATES } from "../init/templates/index.js";
import { cliContext, exitWith, type GlobalArgs } from "./context.js";
import { bold, dim, green, say } from "./output.js";

interface Args extends GlobalArgs {
  template?: string;
  list: boolean;
  out?: string;
  url?: string;
  query?: string;
  target?: string;
  force: boolean;
}

/** The values from flags; in a terminal, asks for the ones the template needs and no flag gave. */
async function values(template: Template, args: Args): Promise<TemplateValues> {
  const given: Partial<TemplateValues> = { url: args.url, query: args.query, target: args.target };
  const out: TemplateValues = { url: "", query: "", target: "" };
  const ask =
    process.stdin.isTTY &&
    process.stdout.isTTY &&
    template.questions.some((q) => given[q.name] === undefined);
  const rl = ask ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
  try {
    for (const q of template.questions) {
      const flag = given[q.name as ValueName];
      if (flag !== undefined || !rl) {
        out[q.name] = flag ?? q.default;
        continue;
      }
      const answer = (await rl.question(`${q.prompt} ${dim(`[${q.default}]`)}: `)).trim();
      out[q.name] = answer || q.default;
    }
  } finally {
    rl?.close();
  }
  return out;
}

async function init(args: Args): Promise<number> {
  if (args.list) {
    for (const t of TEMPLATES) say(`${bold(t.name.padEnd(20))} ${t.description}`);
    return 0;
  }
  if (!args.template) {
    throw new ChaosError("invalid", "name a template with --template NAME", {
      hint: `one of: ${TEMPLATES.map((t) => t.name).join(", ")} (chaos init --list)`,
    });
  }
  const template = findTemplate(args.template);
  const out = args.out ?? `${template.name}.yaml`;
  const text = scaffold(template, await values(template, args), out, cliContext(args).registry);
  await writeNewFile(out, text, args.force);
  say(
    `${green("✓")} wrote ${out} ${dim(`(${template.name}; check it with chaos validate ${out}, run it with chaos run ${out})`)}`,
  );
  return 0;
}

export const initCommand: CommandModule<GlobalArgs, Args> = {
  command: "init",
  describe: "scaffold an experiment from a template (asks a few questions in a terminal)",
  builder: (y) =>
    y
      .option("template", { type: "string", describe: "the template (see --list)" })
      .option("list", { type: "boolean", default: false, describe: "list the templates" })
      .option("out", { type: "string", describe: "the file to write (default <template>.yaml)" })
      .option("url", { type: "string", describe: "the service's health URL" })
      .option("query", { type: "string", describe: "PromQL for the SLI (prometheus-slo)" })
      .option("target", { type: "string", describe: "a process (pattern, pid file, :port) or a proxy name" })
      .option("force", { type: "boolean", default: false, describe: "overwrite an existing file" }) as never,
  handler: (args) => exitWith(() => init(args)),
};

import { createInterface } from "node:readline/promises";
import type { CommandModule } from "yargs";
import { ChaosError } from "../experiments/errors.js";
import { findTemplate, scaffold, writeNewFile } from "../init/scaffold.js";
import type { Template, TemplateValues, ValueName } from "../init/template.js";
import { TEMPLATES } from "../init/templates/index.js";
import { cliContext, exitWith, type GlobalArgs } from "./context.js";
import { interactiveOutput } from "./guard.js";
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

/** A person at a terminal can be asked; a script or a pipe never is. */
const interactive = () => Boolean(process.stdin.isTTY && process.stdout.isTTY);
const prompt = () => createInterface({ input: process.stdin, output: interactiveOutput(process.stdout) });

/** Lists the templates, numbered, and asks which one: a number or a name (the first is the default). */
async function pickTemplate(): Promise<string> {
  say("Which experiment do you want to start from?");
  const width = Math.max(...TEMPLATES.map((t) => t.name.length));
  for (const [i, t] of TEMPLATES.entries())
    say(`  ${i + 1}. ${bold(t.name.padEnd(width))}  ${dim(t.description)}`);
  const rl = prompt();
  try {
    for (;;) {
      const answer = (await rl.question(`template ${dim(`[1-${TEMPLATES.length}, default 1]`)}: `)).trim();
      const n = Number(answer || "1");
      const picked = Number.isInteger(n) ? TEMPLATES[n - 1] : TEMPLATES.find((t) => t.name === answer);
      if (picked) return picked.name;
      say(`  type a number from 1 to ${TEMPLATES.length}, or a template's name`);
    }
  } finally {
    rl.close();
  }
}

/** The values from flags; in a terminal, asks for the ones the template needs and no flag gave. */
async function values(template: Template, args: Args): Promise<TemplateValues> {
  const given: Partial<TemplateValues> = { url: args.url, query: args.query, target: args.target };
  const out: TemplateValues = { url: "", query: "", target: "" };
  const ask = interactive() && template.questions.some((q) => given[q.name] === undefined);
  const rl = ask ? prompt() : undefined;
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
  const name = args.template ?? (interactive() ? await pickTemplate() : undefined);
  if (!name) {
    throw new ChaosError("invalid", "name a template with --template NAME", {
      hint: `one of: ${TEMPLATES.map((t) => t.name).join(", ")} (chaos init --list)`,
    });
  }
  const template = findTemplate(name);
  const out = args.out ?? `${template.name}.yaml`;
  const text = scaffold(template, await values(template, args), out, cliContext(args).registry);
  await writeNewFile(out, text, args.force);
  say(`${green("✓")} wrote ${out} ${dim(`(${template.name})`)}`);
  say(dim(`  check it: chaos validate ${out}`));
  say(dim(`  run it:   chaos run ${out}`));
  return 0;
}

export const initCommand: CommandModule<GlobalArgs, Args> = {
  command: "init",
  describe: "scaffold an experiment from a template (asks a few questions in a terminal)",
  builder: (y) =>
    y
      .option("template", {
        type: "string",
        describe: "the template (see --list); in a terminal, without it, you pick one",
      })
      .option("list", { type: "boolean", default: false, describe: "list the templates" })
      .option("out", { type: "string", describe: "the file to write (default <template>.yaml)" })
      .option("url", { type: "string", describe: "the service's health URL" })
      .option("query", { type: "string", describe: "PromQL for the SLI (prometheus-slo)" })
      .option("target", { type: "string", describe: "a process (pattern, pid file, :port) or a proxy name" })
      .option("force", { type: "boolean", default: false, describe: "overwrite an existing file" }) as never,
  handler: (args) => exitWith(() => init(args)),
};

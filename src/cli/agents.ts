import type { CommandModule } from "yargs";
import type { JsonSchema } from "../agents/agent.js";
import { cliContext, exitWith, type GlobalArgs } from "./context.js";
import { bold, dim, say } from "./output.js";

interface Args extends GlobalArgs {
  json: boolean;
}

function enumText(values: unknown[]): string {
  const shown = values.slice(0, 6).map((v) => JSON.stringify(v));
  return values.length > 6 ? `${shown.join("|")}|… (${values.length} names)` : shown.join("|");
}

/** One line per property of an object schema: `name: type — description`. */
function describeSchema(schema: JsonSchema | undefined, indent: string): string[] {
  const parts = schema?.allOf as JsonSchema[] | undefined;
  if (parts) return parts.flatMap((part) => describeSchema(part, indent));
  const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  const described = Object.entries(props).filter(([, s]) => typeof s === "object"); // `true` only marks a key
  const lines = described.map(([name, s]) => {
    const type =
      s.type ??
      (s.enum ? enumText(s.enum as unknown[]) : s.oneOf || s.anyOf ? "one of several forms" : "any");
    return `${indent}${name}${required.has(name) ? "" : "?"}: ${Array.isArray(type) ? type.join("|") : type}${s.description ? dim(` — ${s.description}`) : ""}`;
  });
  const alternatives = ((schema?.oneOf ?? schema?.anyOf) as JsonSchema[] | undefined) ?? [];
  const choices = alternatives
    .map((alt) => ((alt.required as string[] | undefined) ?? []).join(" + "))
    .filter(Boolean);
  if (choices.length) lines.push(`${indent.replace(/\.$/, "")}: exactly one of ${choices.join(" | ")}`);
  return lines;
}

export const agentsCommand: CommandModule<GlobalArgs, Args> = {
  command: "agents",
  describe: "list every agent's actions and probes with their arguments",
  builder: (y) =>
    y.option("json", {
      type: "boolean",
      default: false,
      describe: "print the argument schemas as JSON",
    }) as never,
  handler: (args) =>
    exitWith(async () => {
      const { registry } = cliContext(args);
      if (args.json) {
        const out = registry.agents().map((a) => ({
          agent: a.name,
          description: a.description,
          configuration: a.configuration,
          actions: Object.values(a.actions).map((x) => ({
            name: `${a.name}.${x.name}`,
            description: x.description,
            target: x.target,
            args: x.args,
          })),
          probes: Object.values(a.probes).map((p) => ({
            name: `${a.name}.${p.name}`,
            description: p.description,
            args: p.args,
            default: a.defaultProbe === p.name,
          })),
        }));
        say(JSON.stringify(out, null, 2));
        return 0;
      }
      for (const a of registry.agents()) {
        say(`${bold(a.name)} ${dim(`— ${a.description}`)}`);
        if (a.configuration) {
          say(`  configuration.${a.name}:`);
          for (const l of describeSchema(a.configuration, "    ")) say(l);
        }
        for (const x of Object.values(a.actions)) {
          say(`  action ${bold(`${a.name}.${x.name}`)} ${dim(`— ${x.description}`)}`);
          if (x.target) for (const l of describeSchema(x.target, "    target.")) say(l);
          for (const l of describeSchema(x.args, "    args.")) say(l);
        }
        for (const p of Object.values(a.probes)) {
          const key = a.defaultProbe === p.name ? `${a.name}` : `${a.name}.${p.name}`;
          say(`  probe ${bold(key)} ${dim(`— ${p.description}`)}`);
          for (const l of describeSchema(p.args, "    ")) say(l);
        }
        say("");
      }
      return 0;
    }),
};

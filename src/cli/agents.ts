import type { CommandModule } from "yargs";
import type { JsonSchema } from "../contract/agent.js";
import { ChaosError } from "../experiments/errors.js";
import { didYouMean } from "../experiments/suggest.js";
import { cliContext, exitWith, type GlobalArgs } from "./context.js";
import { bold, dim, say } from "./output.js";

interface Args extends GlobalArgs {
  json: boolean;
  agent?: string;
}

/** The forms a oneOf/anyOf accepts, by type: "string|object|array". */
function formsOf(alternatives: JsonSchema[]): string {
  const forms = alternatives.map((a) =>
    a.type
      ? [a.type].flat().join("|")
      : a.enum
        ? enumText(a.enum as unknown[])
        : a.const !== undefined
          ? JSON.stringify(a.const)
          : "object",
  );
  return [...new Set(forms)].join("|");
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
      (s.enum
        ? enumText(s.enum as unknown[])
        : s.oneOf || s.anyOf
          ? formsOf((s.oneOf ?? s.anyOf) as JsonSchema[])
          : "any");
    return `${indent}${name}${required.has(name) ? "" : "?"}: ${Array.isArray(type) ? type.join("|") : type}${s.description ? dim(` — ${s.description}`) : ""}`;
  });
  const alternatives = ((schema?.oneOf ?? schema?.anyOf) as JsonSchema[] | undefined) ?? [];
  const choices = alternatives
    .map((alt) => ((alt.required as string[] | undefined) ?? []).join(" + "))
    .filter(Boolean);
  if (choices.length) {
    // "target: exactly one of …" under an action; a probe's own arguments have no prefix to name.
    const owner = indent.trim().replace(/\.$/, "") || "arguments";
    lines.push(`${indent.replace(/\S.*$/, "")}${owner}: exactly one of ${choices.join(" | ")}`);
  }
  return lines;
}

export const agentsCommand: CommandModule<GlobalArgs, Args> = {
  command: "agents [agent]",
  describe: "list every agent's actions and probes with their arguments (or one agent's)",
  builder: (y) =>
    y
      .positional("agent", {
        type: "string",
        describe: "only this agent: http, process, toxiproxy, prometheus, …",
      })
      .option("json", {
        type: "boolean",
        default: false,
        describe: "print the argument schemas as JSON",
      }) as never,
  handler: (args) =>
    exitWith(async () => {
      const { registry } = cliContext(args);
      const agents = registry.agents().filter((a) => !args.agent || a.name === args.agent);
      if (!agents.length) {
        const names = registry.agents().map((a) => a.name);
        throw new ChaosError("invalid", `unknown agent "${args.agent}"`, {
          hint: didYouMean(args.agent ?? "", names) ?? `known: ${names.join(", ")}`,
        });
      }
      if (args.json) {
        const out = agents.map((a) => ({
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
      for (const a of agents) {
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
          // The key experiments write: the agent's name for a probe-only agent (http, prometheus), else
          // agent.probe (process.running); the default probe answers to the other spelling too.
          const full = `${a.name}.${p.name}`;
          const isDefault = a.defaultProbe === p.name;
          const key = isDefault && Object.keys(a.actions).length === 0 ? a.name : full;
          const also = isDefault ? ` (also: ${key === full ? a.name : full})` : "";
          say(`  probe ${bold(key)}${dim(also)} ${dim(`— ${p.description}`)}`);
          for (const l of describeSchema(p.args, "    ")) say(l);
        }
        say("");
      }
      return 0;
    }),
};

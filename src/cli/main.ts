#!/usr/bin/env node
import type { CommandModule } from "yargs";
import { outputRedactor } from "../experiments/redact.js";
import { printError, VERSION } from "./basics.js";
import { guardOutput } from "./guard.js";

// Every byte written to stdout and stderr passes the redactor and loses its control characters; a failed
// write (a closed pipe, a full disk) is dropped: a run must still revert its faults and end with its verdict.
guardOutput(outputRedactor);

type Loader = () => Promise<CommandModule<never, never>>;
/** Each command's module is loaded only when it runs (or for --help), so a cold start stays fast. */
const COMMANDS: Record<string, Loader> = {
  run: async () => (await import("./run.js")).runCommand as never,
  validate: async () => (await import("./validate.js")).validateCommand as never,
  plan: async () => (await import("./plan.js")).planCommand as never,
  rollback: async () => (await import("./rollback.js")).rollbackCommand as never,
  agents: async () => (await import("./agents.js")).agentsCommand as never,
  report: async () => (await import("./report.js")).reportCommand as never,
  proxy: async () => (await import("./proxy.js")).proxyCommand as never,
  gameday: async () => (await import("./gameday.js")).gamedayCommand as never,
  init: async () => (await import("./init.js")).initCommand as never,
  intercept: async () => (await import("./intercept.js")).interceptCommand as never,
  stress: async () => (await import("./stress.js")).stressCommand as never,
  ephemeral: async () => (await import("./ephemeral.js")).ephemeralCommand as never,
  import: async () => (await import("./import.js")).importCommand as never,
};
const GLOBAL_WITH_VALUE = new Set(["--log-level", "--log-format", "--max-input-bytes"]);

/** The commands to load: the one named on the command line, none for a bare --version, else all. */
function commandsNeeded(argv: string[]): string[] {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith("-")) return a in COMMANDS ? [a] : Object.keys(COMMANDS);
  }
  return argv.length === 1 && argv[0] === "--version" ? [] : Object.keys(COMMANDS);
}

const args = process.argv.slice(2);
// `--journal -` means stdout; the argument parser would take the lone `-` for a positional argument.
for (let i = args.indexOf("--journal"); i >= 0 && args[i + 1] === "-"; i = args.indexOf("--journal", i + 1))
  args.splice(i, 2, "--journal=-");
process.argv = [...process.argv.slice(0, 2), ...args];
if (args.length === 1 && args[0] === "--version") {
  // The most frequent cold start of all (scripts checking the tool is there) needs no argument parser.
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
}

if (
  args[0] === "validate" &&
  args.length > 1 &&
  args.slice(1).every((a) => a === "-" || !a.startsWith("-"))
) {
  // `chaos validate FILE...` with no option, the usual CI gate, is served without the argument parser too.
  const [{ validateFiles }, { cliContext, exitWith }] = await Promise.all([
    import("./validate.js"),
    import("./context.js"),
  ]);
  await exitWith(() => validateFiles(args.slice(1), cliContext({ "log-level": "info" })));
} else await parse();

/** Everything else goes through yargs: options, help, suggestions. */
async function parse(): Promise<void> {
  const [{ default: yargs }, commands] = await Promise.all([
    import("yargs"),
    Promise.all(commandsNeeded(args).map((name) => COMMANDS[name]!())),
  ]);
  let cli = yargs(args)
    .scriptName("chaos")
    .usage(
      "$0 <command> [options]\n\nChaos experiments with honest verdicts and faults that always roll back.",
    )
    .option("log-level", {
      type: "string",
      choices: ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
      global: true,
      describe: "logs on stderr from this level (default info; chaos run: warn, and all of it in run.log)",
    })
    .option("log-format", {
      type: "string",
      choices: ["json", "pretty"],
      global: true,
      describe: "logs on stderr (default: json unless stderr is a terminal)",
    })
    .option("max-input-bytes", {
      type: "number",
      global: true,
      describe: "largest experiment file read (default: $CHAOS_MAX_INPUT_BYTES, else 1048576)",
    });
  for (const c of commands) cli = cli.command(c as never);
  await cli
    .example(
      "$0 run experiments/payments-gateway-latency.yaml",
      "run an experiment, write its journal and reports",
    )
    .example(
      '$0 run "experiments/*.yaml" --out .chaos/ci',
      "a CI gate: every file in order, one JUnit, worst exit",
    )
    .example("$0 validate experiments/*.yaml", "check files; exit 2 on any error")
    .example("$0 plan experiments/payments-gateway-down.yaml", "show what would be done, touch nothing")
    .example("$0 rollback", "revert what a killed run left behind")
    .example("$0 proxy --port 8474", "start the embedded Toxiproxy-compatible proxy")
    .example("$0 gameday run examples/gameday/payments.yaml", "run a GameDay runbook at the terminal")
    .example("$0 init --list", "the templates `chaos init` scaffolds experiments from")
    .completion("completion", "print a bash/zsh completion script: chaos completion >> ~/.bashrc")
    .epilogue(
      "exit codes: 0 held · 1 deviated or not steady · 2 invalid input · 3 aborted · 4 agent/infrastructure error",
    )
    .demandCommand(1, "name a command (see --help)")
    .strict()
    .version(VERSION)
    .help()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      if (err) printError(err);
      else {
        process.stderr.write(`error: ${msg}\n(run chaos --help for usage)\n`);
      }
      process.exit(2);
    })
    .parseAsync();
}

#!/usr/bin/env node
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { agentsCommand } from "./agents.js";
import { printError, VERSION } from "./context.js";
import { planCommand } from "./plan.js";
import { proxyCommand } from "./proxy.js";
import { reportCommand } from "./report.js";
import { rollbackCommand } from "./rollback.js";
import { runCommand } from "./run.js";
import { validateCommand } from "./validate.js";

// A closed pipe (`chaos agents | head`), or a terminal that went away (EIO after SIGHUP), is not an error worth a
// stack trace. Nor a reason to exit: a run whose reader went away must still revert its faults and end with its
// verdict, so further output is dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || err.code === "EIO") return;
    throw err;
  });
}

await yargs(hideBin(process.argv))
  .scriptName("chaos")
  .usage("$0 <command> [options]\n\nChaos experiments with honest verdicts and faults that always roll back.")
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
  .command(runCommand as never)
  .command(validateCommand as never)
  .command(planCommand as never)
  .command(rollbackCommand as never)
  .command(agentsCommand as never)
  .command(reportCommand as never)
  .command(proxyCommand as never)
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

import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { CommandModule } from "yargs";
import { Controller, newRunId } from "../experiments/controller.js";
import { ChaosError } from "../experiments/errors.js";
import { writeJournal } from "../experiments/journal.js";
import { Ledger } from "../experiments/ledger.js";
import { loadExperiment } from "../experiments/load.js";
import { recoverFromLedger } from "../experiments/recover.js";
import { writeReports } from "../experiments/report/index.js";
import { cliContext, exitWith, type GlobalArgs, VERSION } from "./context.js";
import { bold, dim, printEvent, printVerdict, red, say, yellow } from "./output.js";
import { printPlan } from "./plan.js";

interface Args extends GlobalArgs {
  file: string;
  journal?: string;
  "dry-run": boolean;
  ledger?: string;
  reports: boolean;
}

export const runCommand: CommandModule<GlobalArgs, Args> = {
  command: "run <file>",
  describe:
    "run an experiment: hypothesis, faults, rollbacks, verdict (exit 0 held, 1 deviated, 2 invalid, 3 aborted, 4 error)",
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true })
      .option("journal", {
        type: "string",
        describe: "journal path (default .chaos/runs/<run id>/journal.json); reports go beside it",
      })
      .option("dry-run", {
        type: "boolean",
        default: false,
        describe: "validate, print the plan and run the preflight checks; inject nothing",
      })
      .option("ledger", {
        type: "string",
        describe: "rollback ledger folder (default .chaos/ledger or $CHAOS_LEDGER)",
      })
      .option("reports", {
        type: "boolean",
        default: true,
        describe: "write report.md, junit.xml and report.html beside the journal",
      }) as never,
  handler: async (args) => {
    await exitWith(() => runExperiment(args));
    // Exit now rather than when the event loop drains: Node's teardown puts the default signal actions back
    // before the process is gone, and a signal landing then would end it with 129/130/143 after its verdict.
    process.exit();
  },
};

async function runExperiment(args: Args): Promise<number> {
  const { log, registry } = cliContext(args);
  const experiment = await loadExperiment(args.file, { registry });
  const ledger = new Ledger(args.ledger);
  const runId = newRunId();
  const controller = new Controller(experiment, {
    registry,
    log,
    ledger,
    toolVersion: VERSION,
    runId,
    onEvent: printEvent,
  });

  if (args["dry-run"]) {
    printPlan(experiment);
    await controller.preflightOnly();
    say("dry run: preflight passed, nothing was injected");
    return 0;
  }

  const journalPath = args.journal ?? join(".chaos", "runs", runId, "journal.json");
  await ensureWritableFolder(dirname(journalPath));
  say(bold(`▶ ${experiment.title}`) + dim(`  (run ${runId})`));
  const uninstall = installSafetyNets(controller, async () => {
    // Last resort after a crash: revert from the ledger what this run recorded.
    await recoverFromLedger({ ledger, registry, log, runId });
  });
  let journal: Awaited<ReturnType<Controller["run"]>>;
  try {
    journal = await controller.run();
  } finally {
    uninstall();
  }
  await writeJournal(journalPath, journal);
  const files = [`journal: ${journalPath}`];
  if (args.reports) {
    for (const r of await writeReports(journal, dirname(journalPath)))
      files.push(`${r.format}: ${relativePath(r.path)}`);
  }
  printVerdict(journal, files);
  return journal.exitCode;
}

/**
 * Creates the journal's folder before anything is injected, so that a bad `--journal` does not cost a whole
 * run and its verdict.
 * @throws ChaosError("invalid") when the folder cannot be created or written.
 */
async function ensureWritableFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new ChaosError("invalid", `cannot write the journal in ${dir}: ${(err as Error).message}`, {
      hint: "pass --journal PATH in a writable folder",
    });
  }
}

function relativePath(p: string): string {
  const r = relative(process.cwd(), p);
  return r.startsWith("..") ? p : r;
}

/**
 * SIGINT/SIGTERM abort the run (rollbacks still happen; exit 3). A third signal forces the exit and says how
 * to finish the rollback. An uncaught error reverts what the ledger holds for this run, then exits 4.
 */
function installSafetyNets(controller: Controller, crashRecovery: () => Promise<void>): () => void {
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) controller.abort("signal", `received ${sig}`);
    else if (signals === 2) say(yellow("  rolling back — wait, or send the signal again to force an exit"));
    else {
      say(red("  forced exit: faults may remain; run `chaos rollback` to revert them"));
      process.exit(3);
    }
  };
  const onCrash = (err: unknown) => {
    // Stop the method first so that nothing new is applied while the ledger is being reverted.
    controller.abort("failure", `internal error: ${(err as Error)?.message ?? String(err)}`);
    process.stderr.write(
      `${red("internal error:")} ${(err as Error)?.message ?? String(err)} — reverting this run's faults\n`,
    );
    crashRecovery()
      .catch((e) =>
        process.stderr.write(
          `rollback after crash failed: ${(e as Error).message}; run \`chaos rollback\`\n`,
        ),
      )
      .finally(() => process.exit(4));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
  };
}

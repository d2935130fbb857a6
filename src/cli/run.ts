import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { CommandModule } from "yargs";
import { Controller, newRunId } from "../experiments/controller.js";
import { ChaosError } from "../experiments/errors.js";
import { writeJournal } from "../experiments/journal.js";
import { Ledger } from "../experiments/ledger.js";
import { loadExperiment } from "../experiments/load.js";
import { checkOutputFile } from "../experiments/output-file.js";
import { recoverFromLedger } from "../experiments/recover.js";
import { REPORT_FILES, writeReports } from "../experiments/report/index.js";
import { cliContext, exitWith, type GlobalArgs, inputFiles, VERSION } from "./context.js";
import { bold, dim, printEvent, printVerdict, red, say, sayOnStderr, yellow } from "./output.js";
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
        describe:
          "journal path (default .chaos/runs/<run id>/journal.json); reports go beside it; - streams the journal to stdout",
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
  handler: (args) => exitWith(() => runExperiment(args)),
};

async function runExperiment(args: Args): Promise<number> {
  const { log, registry, maxBytes } = cliContext(args);
  const experiment = await loadExperiment(inputFiles(args.file)[0] ?? args.file, { registry, maxBytes });
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

  const toStdout = args.journal === "-";
  // With `--journal -`, stdout carries the journal alone; the progress lines move to stderr.
  if (toStdout) sayOnStderr();
  const journalPath = args.journal ?? join(".chaos", "runs", runId, "journal.json");
  if (!toStdout) await checkOutputPaths(journalPath, args.reports);
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
  if (toStdout) {
    process.stdout.write(`${JSON.stringify(journal, null, 2)}\n`);
    printVerdict(journal, ["journal: stdout"]);
    return journal.exitCode;
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
 * Checks every file a run will write before anything is injected, so that a bad `--journal` does not cost a
 * whole run and its verdict: the journal's folder is created and writable, and neither the journal nor a
 * report is a symlink, a folder or a special file.
 * @throws ChaosError("invalid") naming the path that cannot be used.
 */
async function checkOutputPaths(journalPath: string, reports: boolean): Promise<void> {
  const dir = dirname(journalPath);
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new ChaosError("invalid", `cannot write the journal in ${dir}: ${(err as Error).message}`, {
      hint: "pass --journal PATH in a writable folder",
    });
  }
  await checkOutputFile(journalPath, "journal");
  if (reports) for (const file of REPORT_FILES) await checkOutputFile(join(dir, file), "report");
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

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
import { cliContext, endWith, type GlobalArgs, VERSION } from "./context.js";
import { bold, dim, printEvent, printVerdict, say } from "./output.js";
import { printPlan } from "./plan.js";
import { installSafetyNets } from "./safety-nets.js";

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
        describe: "rollback ledger folder (default $CHAOS_LEDGER, else the per-user state folder)",
      })
      .option("reports", {
        type: "boolean",
        default: true,
        describe: "write report.md, junit.xml and report.html beside the journal",
      }) as never,
  handler: (args) => endWith(() => runExperiment(args)),
};

async function runExperiment(args: Args): Promise<number> {
  // Installed first and kept until the process exits: no signal may end it without its rollbacks and journal.
  const nets = args["dry-run"] ? undefined : installSafetyNets();
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
  nets?.attach(controller, async () => {
    // Last resort after a crash: revert from the ledger what this run recorded.
    await recoverFromLedger({ ledger, registry, log, runId });
  });
  const journal = await controller.run();
  nets?.finished();
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

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
import { createLogger } from "./logger.js";
import { say } from "./output.js";
import { printPlan } from "./plan.js";
import { type RunOutcome, runFiles } from "./run-many.js";
import { createRunView, viewMode } from "./run-view.js";
import { installSafetyNets } from "./safety-nets.js";
import { readVars } from "./vars.js";

interface Args extends GlobalArgs {
  files?: string[];
  file: string;
  out?: string;
  var?: string[];
  "var-file"?: string[];
  journal?: string;
  "dry-run": boolean;
  ledger?: string;
  reports: boolean;
  quiet?: boolean;
  json?: boolean;
}

export const runCommand: CommandModule<GlobalArgs, Args> = {
  command: "run [files..]",
  describe:
    "run an experiment: hypothesis, faults, rollbacks, verdict (exit 0 held, 1 deviated, 2 invalid, 3 aborted, 4 error)",
  builder: (y) =>
    y
      .positional("files", {
        type: "string",
        array: true,
        describe:
          "experiment files or quoted globs (experiments/*.yaml), run in order; exit code = worst verdict",
      })
      .option("out", {
        type: "string",
        describe:
          "with several files: the suite folder (default .chaos/suites/<time>) for each run, junit.xml and summary.md",
      })
      .option("var", {
        type: "string",
        array: true,
        describe:
          "set a configuration value: --var name=value (repeatable; dotted names reach into mappings)",
      })
      .option("var-file", {
        type: "string",
        array: true,
        describe: "set configuration values from a YAML mapping",
      })
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
      })
      .option("quiet", { type: "boolean", describe: "print only the verdict line" })
      .option("json", {
        type: "boolean",
        describe: "print the journal on stdout (and nothing else)",
      }) as never,
  handler: (args) =>
    endWith(async () => {
      const vars = await readVars(args.var, args["var-file"]);
      // One set of signal handlers for all the files: a signal aborts the run in progress, whichever it is.
      const nets = args["dry-run"] ? undefined : installSafetyNets();
      return runFiles(args.files ?? [], args, (file, journal, view) =>
        runExperiment({ ...args, ...view, file, journal }, vars, nets),
      );
    }),
};

async function runExperiment(
  args: Args,
  vars?: Record<string, unknown>,
  // Installed first and kept until the process exits: no signal may end it without its rollbacks and journal.
  nets = args["dry-run"] ? undefined : installSafetyNets(),
): Promise<RunOutcome> {
  const { registry } = cliContext(args);
  const experiment = await loadExperiment(args.file, { registry, vars });
  const ledger = new Ledger(args.ledger);
  const runId = newRunId();
  const journalPath = args.journal ?? join(".chaos", "runs", runId, "journal.json");
  if (!args["dry-run"]) await ensureWritableFolder(dirname(journalPath));
  const view = createRunView(viewMode(args), experiment);
  // The terminal gets warnings; run.log beside the journal gets everything, as JSON lines.
  const log = args["dry-run"]
    ? cliContext(args).log
    : createLogger(args["log-level"] ?? "warn", args["log-format"], join(dirname(journalPath), "run.log"));
  const controller = new Controller(experiment, {
    registry,
    log,
    ledger,
    toolVersion: VERSION,
    runId,
    onEvent: (e) => view.onEvent(e),
  });

  if (args["dry-run"]) {
    printPlan(experiment);
    await controller.preflightOnly();
    say("dry run: preflight passed, nothing was injected");
    return { code: 0, experiment };
  }

  view.begin(`${experiment.title}  (run ${runId})`);
  nets?.attach(controller, async () => {
    // Last resort after a crash: revert from the ledger what this run recorded.
    await recoverFromLedger({ ledger, registry, log, runId });
  });
  const journal = await controller.run();
  nets?.finished();
  await writeJournal(journalPath, journal);
  const files = [`journal: ${journalPath}`, `log: ${relativePath(join(dirname(journalPath), "run.log"))}`];
  if (args.reports) {
    for (const r of await writeReports(journal, dirname(journalPath)))
      files.push(`${r.format}: ${relativePath(r.path)}`);
  }
  view.end(journal, files);
  return { code: journal.exitCode, experiment, journal };
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

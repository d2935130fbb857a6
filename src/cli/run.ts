import { dirname, join, relative } from "node:path";
import type { CommandModule } from "yargs";
import { Controller, newRunId } from "../experiments/controller.js";
import { toCtkJournal } from "../experiments/ctk/journal.js";
import { executeExperiment } from "../experiments/execute.js";
import { Ledger } from "../experiments/ledger.js";
import { loadExperiment } from "../experiments/load.js";
import { checkOutputFile, checkWritableFolder, writeFileSafely } from "../experiments/output-file.js";
import { REPORT_FILES } from "../experiments/report/index.js";
import { cliContext, endWith, type GlobalArgs, inputFiles, VERSION } from "./context.js";
import { createLogger } from "./logger.js";
import { linesToStderr, say, yellow } from "./output.js";
import { printPlan } from "./plan.js";
import { type RunOutcome, runFiles } from "./run-many.js";
import { createRunView, viewMode } from "./run-view.js";
import { installSafetyNets } from "./safety-nets.js";
import { STRATEGY_OPTIONS, type StrategyArgs, strategyOf } from "./strategy.js";
import { readVars } from "./vars.js";

interface Args extends GlobalArgs, StrategyArgs {
  "journal-format": "chaoskit" | "ctk";
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
          "the folder for the files: with one file, its journal, run.log and reports; with several, a folder per run plus one junit.xml and summary.md (default .chaos/runs/<run id>, or .chaos/suites/<time>)",
      })
      // One value per flag, repeatable: `--var a=b exp.yaml` leaves the file to the positional.
      .option("var", {
        type: "string",
        array: true,
        nargs: 1,
        describe:
          "set a configuration value: --var name=value (repeatable; dotted names reach into mappings)",
      })
      .option("var-file", {
        type: "string",
        array: true,
        nargs: 1,
        describe: "set configuration values from a YAML mapping",
      })
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
        describe: "rollback ledger folder (default $CHAOS_LEDGER, else the per-user state folder)",
      })
      .option("reports", {
        type: "boolean",
        default: true,
        describe: "write report.md, junit.xml and report.html beside the journal",
      })
      .options(STRATEGY_OPTIONS)
      .option("journal-format", {
        choices: ["chaoskit", "ctk"] as const,
        default: "chaoskit" as const,
        describe:
          "ctk: also write journal.ctk.json beside the journal, shaped as Chaos Toolkit's (with --journal -, print that one)",
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
      return runFiles(inputFiles(args.files), args, (file, journal, view) =>
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
  const { registry, maxBytes } = cliContext(args);
  const experiment = await loadExperiment(args.file, {
    registry,
    maxBytes,
    vars,
    strategy: strategyOf(args),
  });
  const ledger = new Ledger(args.ledger);
  const runId = newRunId();
  // `--journal -`: stdout carries the journal alone, no file is written and the human lines go to stderr.
  const toStdout = args.journal === "-";
  if (toStdout) linesToStderr();
  const journalPath = toStdout ? undefined : (args.journal ?? join(".chaos", "runs", runId, "journal.json"));
  const runLog = journalPath ? join(dirname(journalPath), "run.log") : undefined;
  if (journalPath && !args["dry-run"]) await checkOutputPaths(journalPath, args.reports, runLog);
  const view = createRunView(viewMode(args), experiment);
  // run.log beside the journal gets everything, as JSON lines; the terminal or pipe gets log records only
  // when --log-level asks for them: the human lines already say each problem once.
  const log =
    args["dry-run"] || !runLog
      ? cliContext(args).log
      : createLogger(args["log-level"] ?? "silent", args["log-format"], runLog);

  if (args["dry-run"]) {
    printPlan(experiment);
    await new Controller(experiment, { registry, log, ledger, toolVersion: VERSION, runId }).preflightOnly();
    say("dry run: preflight passed, nothing was injected");
    return { code: 0, experiment };
  }

  view.begin(`${experiment.title}  (run ${runId})`);
  // Parts of a Chaos Toolkit file with no equivalent (controls): said once, before anything is injected.
  for (const ignored of experiment.source?.ignored ?? []) {
    log.warn({ ignored }, "ignored");
    process.stderr.write(`${yellow("warning:")} ${ignored}\n`);
  }
  const execution = await executeExperiment(experiment, {
    registry,
    log,
    ledger,
    toolVersion: VERSION,
    runId,
    journalPath,
    reports: args.reports,
    onEvent: (e) => view.onEvent(e),
    guard: (controller, crashRecovery) => {
      // Last resort after a crash: revert from the ledger what this run recorded.
      nets?.attach(controller, crashRecovery);
      return (j) => nets?.finished(j?.exitCode);
    },
  });
  const { journal, reports } = execution;
  const ctk = args["journal-format"] === "ctk" ? toCtkJournal(journal, experiment) : undefined;
  if (!journalPath) {
    process.stdout.write(`${JSON.stringify(ctk ?? journal, null, 2)}\n`);
    view.end(journal, ["journal: stdout"]);
    return { code: journal.exitCode, experiment, journal };
  }
  const ctkPath =
    ctk && execution.journalPath ? join(dirname(execution.journalPath), "journal.ctk.json") : undefined;
  if (ctk && ctkPath) {
    try {
      await writeFileSafely(ctkPath, `${JSON.stringify(ctk, null, 2)}\n`, "Chaos Toolkit journal");
    } catch (err) {
      execution.problems.push(`the Chaos Toolkit journal could not be written: ${(err as Error).message}`);
    }
  }
  const files = [
    `journal: ${execution.journalPath ?? "stderr"}`,
    ...(ctkPath ? [`chaos toolkit journal: ${relativePath(ctkPath)}`] : []),
    `log: ${relativePath(runLog ?? "")}`,
    ...reports.map((r) => `${r.format}: ${relativePath(r.path)}`),
  ];
  view.end(journal, files);
  // Said once, after the verdict: an output that could not be written never changes the exit code.
  for (const problem of execution.problems) process.stderr.write(`${yellow("warning:")} ${problem}\n`);
  return { code: journal.exitCode, experiment, journal };
}

/**
 * Checks every file a run will write before anything is injected, so that a bad `--journal` does not cost a
 * whole run and its verdict: the journal's folder is created and writable, and neither the journal, the log
 * nor a report is a symlink, a folder or a special file.
 * @throws ChaosError("invalid") naming the path that cannot be used.
 */
async function checkOutputPaths(journalPath: string, reports: boolean, runLog?: string): Promise<void> {
  const dir = dirname(journalPath);
  await checkWritableFolder(dir, "journal", "pass --journal PATH in a writable folder");
  await checkOutputFile(journalPath, "journal");
  if (runLog) await checkOutputFile(runLog, "log");
  if (reports) for (const file of REPORT_FILES) await checkOutputFile(join(dir, file), "report");
}

function relativePath(p: string): string {
  const r = relative(process.cwd(), p);
  return r.startsWith("..") ? p : r;
}

import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { CommandModule } from "yargs";
import { Controller, newRunId } from "../experiments/controller.js";
import { ChaosError } from "../experiments/errors.js";
import { executeExperiment } from "../experiments/execute.js";
import { Ledger } from "../experiments/ledger.js";
import { loadExperiment } from "../experiments/load.js";
import { checkOutputFile } from "../experiments/output-file.js";
import { recoverFromLedger } from "../experiments/recover.js";
import { REPORT_FILES } from "../experiments/report/index.js";
import { cliContext, endWith, type GlobalArgs, inputFiles, VERSION } from "./context.js";
import { bold, dim, printEvent, printVerdict, say, sayOnStderr } from "./output.js";
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
      }) as never,
  handler: (args) => endWith(() => runExperiment(args)),
};

async function runExperiment(args: Args): Promise<number> {
  // Installed first and kept until the process exits: no signal may end it without its rollbacks and journal.
  const nets = args["dry-run"] ? undefined : installSafetyNets();
  const { log, registry, maxBytes } = cliContext(args);
  const experiment = await loadExperiment(inputFiles(args.file)[0] ?? args.file, { registry, maxBytes });
  const ledger = new Ledger(args.ledger);
  const runId = newRunId();

  if (args["dry-run"]) {
    printPlan(experiment);
    await new Controller(experiment, { registry, log, ledger, toolVersion: VERSION, runId }).preflightOnly();
    say("dry run: preflight passed, nothing was injected");
    return 0;
  }

  const toStdout = args.journal === "-";
  // With `--journal -`, stdout carries the journal alone; the progress lines move to stderr.
  if (toStdout) sayOnStderr();
  const journalPath = toStdout ? undefined : (args.journal ?? join(".chaos", "runs", runId, "journal.json"));
  if (journalPath) await checkOutputPaths(journalPath, args.reports);
  say(bold(`▶ ${experiment.title}`) + dim(`  (run ${runId})`));
  const { journal, reports } = await executeExperiment(experiment, {
    registry,
    log,
    ledger,
    toolVersion: VERSION,
    runId,
    journalPath,
    reports: args.reports,
    onEvent: printEvent,
    guard: (controller) => {
      // Last resort after a crash: revert from the ledger what this run recorded.
      nets?.attach(controller, async () => {
        await recoverFromLedger({ ledger, registry, log, runId });
      });
      return () => nets?.finished();
    },
  });
  if (!journalPath) {
    process.stdout.write(`${JSON.stringify(journal, null, 2)}\n`);
    printVerdict(journal, ["journal: stdout"]);
    return journal.exitCode;
  }
  const files = [`journal: ${journalPath}`, ...reports.map((r) => `${r.format}: ${relativePath(r.path)}`)];
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

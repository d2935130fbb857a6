import { userInfo } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import type { Argv, CommandModule } from "yargs";
import type { RunEvent } from "../experiments/controller.js";
import { newRunId } from "../experiments/controller.js";
import { ChaosError } from "../experiments/errors.js";
import { executeExperiment } from "../experiments/execute.js";
import { Ledger } from "../experiments/ledger.js";
import { makeDir } from "../experiments/make-dir.js";
import type { Experiment } from "../experiments/model.js";
import { recoverFromLedger } from "../experiments/recover.js";
import { loadAnswers, RecordedAnswers, requireAnswers } from "../gameday/answers.js";
import { loadRunbook } from "../gameday/load.js";
import { PRECONDITIONS_ID } from "../gameday/model.js";
import type { GameDayRecord, TimelineEntry } from "../gameday/record.js";
import { writeGameDay } from "../gameday/report/index.js";
import { GameDayRunner } from "../gameday/runner.js";
import { TerminalPrompts } from "../gameday/terminal.js";
import { type CliContext, cliContext, exitWith, type GlobalArgs, VERSION } from "./context.js";
import { COLOURS, eventLine, NO_COLOURS, probeLine } from "./event-lines.js";
import { printGameDayEvent, printRunbookPlan, printSummary } from "./gameday-print.js";
import { interactiveOutput } from "./guard.js";
import { bold, color, dim, say, yellow } from "./output.js";
import { TtyProgress } from "./progress-tty.js";
import { viewMode } from "./run-view.js";
import { installSafetyNets } from "./safety-nets.js";

interface RunArgs extends GlobalArgs {
  runbook: string;
  answers?: string;
  yes: boolean;
  operator?: string;
  ledger?: string;
  out?: string;
}

interface PlanArgs extends GlobalArgs {
  runbook: string;
}

/**
 * Runs a GameDay: asks a person at a terminal, or answers from `--answers`/`--yes`. Ctrl-C, a typed `abort`,
 * SIGINT or SIGTERM abort it: the running experiment rolls back, the ledger is emptied for this GameDay.
 * @throws ValidationErrors / ChaosError("invalid") before anything starts (exit 2).
 */
async function runGameDay(args: RunArgs): Promise<number> {
  const unattended = args.answers !== undefined || args.yes;
  // At a terminal the prompts share the screen with the logs: only warnings, unless asked otherwise.
  const quiet = !unattended && !process.argv.some((a) => a.startsWith("--log-level"));
  const ctx = cliContext(quiet ? { ...args, "log-level": "warn" } : args);
  const runbook = await loadRunbook(args.runbook, { registry: ctx.registry });
  if (!unattended && !process.stdin.isTTY) {
    throw new ChaosError("invalid", "no terminal to ask the questions in", {
      hint: "run it in a terminal, or pass --answers FILE and/or --yes",
    });
  }
  const answers = args.answers ? await loadAnswers(args.answers, runbook) : new Map();
  if (unattended) requireAnswers(runbook, answers, args.yes);

  const id = newRunId();
  const dir = resolve(args.out ?? join(".chaos", "gamedays", id));
  await makeDir(dir);
  // Steps are credited to a person: the one named, else the one logged in (a role is not who answered).
  const operator = args.operator ?? userInfo().username;
  const session = new AbortController();
  const live: LiveView = {};
  const abort = (reason: string) => {
    if (session.signal.aborted) return;
    const line = yellow(`■ aborting the GameDay: ${reason} — reverting every fault`);
    // said above an experiment's live block, if one is drawn, so the block is never left half-erased
    if (live.view) live.view.print(line);
    else say(line);
    session.abort(reason);
  };
  const timeline: TimelineEntry[] = [];
  const terminal = unattended
    ? undefined
    : new TerminalPrompts({
        input: process.stdin,
        output: interactiveOutput(process.stdout),
        operator,
        onAbort: abort,
        timeline: () => timeline,
      });
  const onSignal = (sig: NodeJS.Signals) => abort(`received ${sig}`);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  say(bold(`GameDay: ${runbook.title}`) + dim(`  (${id})`));
  if (runbook.goal) say(dim(`goal: ${runbook.goal}`));
  if (terminal) say(dim('type "abort" or press Ctrl-C at any time to roll everything back'));
  const ledger = new Ledger(args.ledger);
  const runner = new GameDayRunner(runbook, {
    id,
    toolVersion: VERSION,
    mode: !unattended ? "interactive" : args.answers ? "answers" : "yes",
    interaction: terminal ?? new RecordedAnswers(answers, args.yes, operator, say),
    signal: session.signal,
    relative: (p) => relative(dir, p),
    ...experimentRunner(ctx, ledger, dir, live),
    onEvent: (e) => {
      if (e.type === "entry") timeline.push(e.entry);
      printGameDayEvent(e);
    },
  });
  let record: GameDayRecord;
  try {
    record = await runner.run();
  } finally {
    terminal?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  printSummary(record, await writeGameDay(dir, record));
  return record.exitCode;
}

/** The live block of the experiment running now, at a terminal. */
interface LiveView {
  view?: TtyProgress;
}

/**
 * Runs each experiment through the same path as `chaos run` — at a terminal with the same live block (time
 * left, checks, each probe's last value) — and reverts leftovers of this GameDay's runs.
 */
function experimentRunner(
  { registry, log }: CliContext,
  ledger: Ledger,
  dir: string,
  live: LiveView,
): Pick<ConstructorParameters<typeof GameDayRunner>[1], "runExperiment" | "revertLeftovers"> {
  const runIds: string[] = [];
  return {
    runExperiment: async (experiment: Experiment, label: string, signal: AbortSignal) => {
      const runId = newRunId();
      runIds.push(runId);
      const journalPath = join(dir, `${runIds.length}-${label}`, "journal.json");
      await makeDir(dirname(journalPath));
      say(dim(`  ▶ ${experiment.title} (run ${runId})`));
      const tty = viewMode({}) === "tty" ? new TtyProgress(experiment, process.stdout) : undefined;
      live.view = tty;
      tty?.start();
      const execution = await executeExperiment(experiment, {
        registry,
        log,
        ledger,
        toolVersion: VERSION,
        runId,
        journalPath,
        reports: label !== PRECONDITIONS_ID,
        onEvent: tty ? (e) => tty.onEvent(e) : printEvent,
        guard: (controller, crashRecovery) => {
          const stop = () => controller.abort("signal", String(signal.reason ?? "aborted"));
          if (signal.aborted) stop();
          else signal.addEventListener("abort", stop, { once: true });
          const nets = installSafetyNets();
          nets.attach(controller, crashRecovery);
          return () => {
            signal.removeEventListener("abort", stop);
            nets.finished();
            nets.dispose();
          };
        },
      }).finally(() => {
        tty?.stop();
        live.view = undefined;
      });
      for (const problem of execution.problems) say(yellow(`  warning: ${problem}`));
      return execution;
    },
    revertLeftovers: async () => {
      const problems: string[] = [];
      for (const runId of runIds) {
        for (const r of await recoverFromLedger({ ledger, registry, log, runId })) {
          if (r.status === "reverted") say(`  ↺ ${r.entry.revert.description} ${dim("(from the ledger)")}`);
          else
            problems.push(
              `could not revert "${r.entry.revert.description}": ${r.reason}; run chaos rollback`,
            );
        }
      }
      return problems;
    },
  };
}

const runCommand: CommandModule<GlobalArgs, RunArgs> = {
  command: "run <runbook>",
  describe: "run a GameDay: prompts in a terminal, or --answers FILE / --yes without a person",
  builder: (y) =>
    y
      .positional("runbook", { type: "string", demandOption: true })
      .option("answers", {
        type: "string",
        describe: "YAML answers by step id (yes, go, no-go, text, abort)",
      })
      .option("yes", {
        type: "boolean",
        default: false,
        describe: "confirm every checklist and manual step, go at every decision",
      })
      .option("operator", {
        type: "string",
        describe: "who answers, credited in the record (default: your user name)",
      })
      .option("ledger", {
        type: "string",
        describe: "rollback ledger folder (default .chaos/ledger or $CHAOS_LEDGER)",
      })
      .option("out", {
        type: "string",
        describe: "where the record goes (default .chaos/gamedays/<id>)",
      }) as never,
  handler: (args) => exitWith(() => runGameDay(args)),
};

const planCommand: CommandModule<GlobalArgs, PlanArgs> = {
  command: "plan <runbook>",
  describe: "print the steps, the faults each experiment would inject and the targets they would touch",
  builder: (y) => y.positional("runbook", { type: "string", demandOption: true }) as never,
  handler: (args) =>
    exitWith(async () => {
      printRunbookPlan(await loadRunbook(args.runbook, { registry: cliContext(args).registry }));
      return 0;
    }),
};

export const gamedayCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: "gameday",
  describe:
    "GameDay runbooks: run one in the terminal (exit 0 predictions right, 1 a surprise, 2 invalid, 3 aborted), or plan it",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .command(runCommand as never)
      .command(planCommand as never)
      .demandCommand(1, "name a gameday command: run or plan") as never,
  handler: () => undefined,
};

/** An experiment's lines inside a GameDay: steps, faults, rollbacks, the checks before and after, failures. */
function printEvent(e: RunEvent): void {
  const paint = color ? COLOURS : NO_COLOURS;
  const line =
    e.type !== "probe"
      ? eventLine(e, paint)
      : e.record.phase === "before" || e.record.phase === "after" || !e.record.ok
        ? probeLine(e.record, paint)
        : undefined;
  if (line) say(line);
}

import type { CommandModule } from "yargs";
import { formatDuration } from "../experiments/duration.js";
import { loadExperiment } from "../experiments/load.js";
import type { Experiment, ProbeSpec, Step } from "../experiments/model.js";
import { cliContext, exitWith, type GlobalArgs, inputFiles } from "./context.js";
import { bold, dim, say } from "./output.js";
import { printTargets } from "./plan-targets.js";

interface Args extends GlobalArgs {
  file: string;
}

const compact = (v: unknown) =>
  v && typeof v === "object" && Object.keys(v).length ? JSON.stringify(v) : "";

function probeText(p: ProbeSpec): string {
  return `${p.name} ${dim(`[${p.key}] ${compact(p.args)}${p.tolerance ? ` tolerance ${p.tolerance.text}` : ""}`)}`;
}

function stepText(s: Step, i: number): string {
  const n = `${i + 1}.`;
  if (s.kind === "pause") return `${n} pause ${formatDuration(s.ms)}`;
  if (s.kind === "probe") return `${n} probe ${probeText(s.probe)}${s.background ? " (background)" : ""}`;
  const parts = [
    `${n} ${bold(s.ref)}${s.name !== s.ref ? ` "${s.name}"` : ""}`,
    compact(s.target) && `target ${compact(s.target)}`,
    compact(s.args) && `args ${compact(s.args)}`,
    s.durationMs !== undefined
      ? `reverted after ${formatDuration(s.durationMs)}`
      : "reverted at rollback time (if it leaves a fault)",
    s.background ? "in background" : "",
  ];
  return parts.filter(Boolean).join(dim(" · "));
}

/** Prints what a run would do, touching nothing. Secrets appear as references, never as values. */
export function printPlan(e: Experiment): void {
  say(bold(`plan: ${e.title}`));
  const s = e.steadyState;
  if (s) {
    say("  steady state (checked before and after):");
    for (const p of s.probes) say(`    - ${probeText(p)}`);
    if (s.during === "none") say("    not checked while faults are live (during: none)");
    else if (s.during)
      say(
        `    checked every ${formatDuration(s.during.everyMs)} during the method${s.during.failFast ? ", aborting at the first deviation" : ""}`,
      );
    else say("    never checked while faults are live: the run cannot hold (add during: { every: 1s })");
    if (s.after.withinMs) say(`    must recover within ${formatDuration(s.after.withinMs)} after rollbacks`);
  } else say("  no steady-state hypothesis: a plain injection, nothing is judged");
  for (const c of e.stopWhen)
    say(
      `  stop when ${c.name}: ${probeText(c.probe)} (every ${formatDuration(c.everyMs)}${c.onError === "continue" ? ", ignoring checks that fail" : ", or when a check cannot be taken"})`,
    );
  say("  method:");
  e.method.forEach((step, i) => {
    say(`    ${stepText(step, i)}`);
  });
  say("  rollbacks: every fault above is reverted automatically, on every way out");
  for (const r of e.rollbacks) say(`    then ${stepText(r, 0).slice(3)}`);
}

export const planCommand: CommandModule<GlobalArgs, Args> = {
  command: "plan <file>",
  describe: "show what a run would do, without touching anything",
  builder: (y) =>
    y.positional("file", {
      type: "string",
      demandOption: true,
      describe: "experiment file (- reads standard input)",
    }) as never,
  handler: (args) =>
    exitWith(async () => {
      const { registry, log, maxBytes } = cliContext(args);
      const experiment = await loadExperiment(inputFiles(args.file)[0] ?? args.file, { registry, maxBytes });
      printPlan(experiment);
      return printTargets(experiment, registry, log);
    }),
};

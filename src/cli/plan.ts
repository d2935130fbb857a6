import { stringify } from "yaml";
import type { CommandModule } from "yargs";
import { formatDuration } from "../experiments/duration.js";
import { blindnessText } from "../experiments/evidence.js";
import { loadExperiment } from "../experiments/load.js";
import type { Experiment, ProbeSpec, Step } from "../experiments/model.js";
import { toleranceText } from "../experiments/report/values.js";
import { cliContext, exitWith, type GlobalArgs, inputFiles } from "./context.js";
import { bold, dim, say } from "./output.js";
import { printTargets } from "./plan-targets.js";

interface Args extends GlobalArgs {
  file: string;
}

/**
 * Arguments as YAML, as the experiment is written: `{ pid-file: /run/app.pid }`, on one line whatever their
 * length: a multi-line PromQL query is folded to one line, so the plan keeps its indentation.
 */
const compact = (v: unknown) =>
  v && typeof v === "object" && Object.keys(v).length
    ? stringify(oneLine(v), { collectionStyle: "flow", lineWidth: 0 }).trim()
    : "";

function oneLine(v: unknown): unknown {
  if (typeof v === "string") return v.replace(/\s+/g, " ").trim();
  if (Array.isArray(v)) return v.map(oneLine);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, oneLine(x)]));
  return v;
}

/** A probe without its name: the key, its arguments and its tolerance (or `when`) as text. */
function probeDetail(p: ProbeSpec, criterion = "tolerance"): string {
  return dim(
    `[${p.key}] ${compact(p.args)}${p.tolerance ? ` ${criterion} ${toleranceText(p.tolerance.text)}` : ""}`,
  );
}

function probeText(p: ProbeSpec): string {
  return `${p.name} ${probeDetail(p)}`;
}

/**
 * How long a run should take: the method's foreground steps (pauses, faults held for their duration), plus
 * the after phase's wait when the recovery takes all of `after.within`. Checks themselves are not counted.
 */
export function estimateMs(e: Experiment): { typical: number; worst: number } {
  let method = 0;
  let background = 0;
  for (const s of e.method) {
    const ms = s.kind === "pause" ? s.ms : s.kind === "action" ? (s.durationMs ?? 0) : 0;
    if (s.kind !== "pause" && s.background) background = Math.max(background, method + ms);
    else method += ms;
  }
  const typical = Math.max(method, background);
  return { typical, worst: typical + (e.steadyState?.after.withinMs ?? 0) };
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

/**
 * Prints what a run would do, touching nothing. Secrets appear as references, never as values. `line`
 * prints one line (a GameDay plan indents the experiment under its step).
 */
export function printPlan(e: Experiment, line: (text: string) => void = say): void {
  const say = line;
  say(bold(`plan: ${e.title}`));
  const s = e.steadyState;
  if (s) {
    const around = [s.skip?.before ? "" : "before", s.skip?.after ? "" : "after"].filter(Boolean);
    say(`  steady state (checked ${around.length ? around.join(" and ") : "neither before nor after"}):`);
    for (const p of s.probes) say(`    - ${probeText(p)}`);
    if (s.during === "none") say("    not checked while faults are live (during: none)");
    else if (s.during)
      say(
        `    checked every ${formatDuration(s.during.everyMs)} during the method${s.during.failFast ? ", aborting at the first deviation" : ""}`,
      );
    else say("    never checked while faults are live: the run cannot hold (add during: { every: 1s })");
    if (s.after.withinMs && !s.skip?.after)
      say(`    must recover within ${formatDuration(s.after.withinMs)} after rollbacks`);
  } else say("  no steady-state hypothesis: a plain injection, nothing is judged");
  for (const c of e.stopWhen)
    say(
      `  stop when ${c.name}: ${probeDetail(c.probe, "when")} (every ${formatDuration(c.everyMs)}; ${blindnessText(c)})`,
    );
  say("  method:");
  e.method.forEach((step, i) => {
    say(`    ${stepText(step, i)}`);
  });
  say("  rollbacks: every fault above is reverted automatically, on every way out");
  for (const r of e.rollbacks) say(`    then ${stepText(r, 0).slice(3)}`);
  const t = estimateMs(e);
  say(
    `  estimated run time: about ${formatDuration(t.typical)}${t.worst > t.typical ? `, up to ${formatDuration(t.worst)} if the recovery takes all of after.within` : ""} (plus the checks themselves)`,
  );
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

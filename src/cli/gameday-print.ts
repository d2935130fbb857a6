import { relative } from "node:path";
import { formatDuration } from "../experiments/duration.js";
import type { Runbook } from "../gameday/model.js";
import type { GameDayRecord } from "../gameday/record.js";
import { GAMEDAY_STATUS, outcomeOf } from "../gameday/report/words.js";
import { type GameDayEvent, textOf } from "../gameday/runner.js";
import { bold, dim, green, red, say, yellow } from "./output.js";
import { printPlan } from "./plan.js";

/** Prints the GameDay's progress: each step as it starts, each timeline entry as it closes. */
export function printGameDayEvent(e: GameDayEvent): void {
  if (e.type === "step") {
    const where = e.index < 0 ? "before the first step" : `step ${e.index + 1}/${e.total}`;
    const text = e.step.kind === "preconditions" ? "checklist and probes" : textOf(e.step);
    say("");
    say(bold(`● ${e.step.id}`) + dim(` — ${e.step.kind}, ${where}: `) + text.split("\n")[0]);
    if (e.step.kind === "preconditions") for (const c of e.step.checklist) say(`    ☐ ${c}`);
  } else if (e.type === "entry") {
    const surprise = e.entry.experiment && !e.entry.experiment.matched;
    const mark = e.entry.status !== "done" ? red("■") : surprise ? yellow("!") : green("✓");
    say(`  ${mark} ${e.entry.step}: ${outcomeOf(e.entry)}${e.entry.by ? dim(` (${e.entry.by})`) : ""}`);
  }
}

export function printSummary(r: GameDayRecord, files: string[]): void {
  const paint = r.exitCode === 0 ? green : r.status === "aborted" ? yellow : red;
  say("");
  say(
    `${bold("GameDay:")} ${paint(bold(GAMEDAY_STATUS[r.status]))} ${dim(`(exit ${r.exitCode}, ${formatDuration(r.durationMs)})`)}`,
  );
  for (const reason of r.reasons) say(`  - ${reason}`);
  for (const f of files) {
    const shown = relative(process.cwd(), f);
    say(`  ${dim(shown.startsWith("..") ? f : shown)}`);
  }
}

/** Prints every step, the faults each experiment would inject and the targets they would touch. */
export function printRunbookPlan(runbook: Runbook): void {
  say(bold(`GameDay plan: ${runbook.title}`));
  if (runbook.goal) say(`  goal: ${runbook.goal}`);
  const { facilitator, observers } = runbook.roles;
  if (facilitator || observers.length)
    say(
      `  roles: ${[facilitator && `facilitator ${facilitator}`, observers.length && `observers ${observers.join(", ")}`].filter(Boolean).join(" · ")}`,
    );
  const { checklist, probes } = runbook.preconditions;
  if (checklist.length || probes.length) {
    say("  preconditions:");
    for (const c of checklist) say(`    ☐ ${c}`);
    for (const p of probes)
      say(`    probe ${p.name} ${dim(`[${p.key}] tolerance ${p.tolerance?.text ?? ""}`)}`);
  }
  let faults = 0;
  runbook.steps.forEach((step, i) => {
    say("");
    say(`${bold(`${i + 1}. ${step.id}`)} ${dim(`[${step.kind}]`)} ${textOf(step)}`);
    if (step.kind !== "experiment") return;
    for (const c of step.abortIf)
      say(
        `   GameDay aborts if ${c.name.replace(/^abort-if: /, "")} ${dim(`(${c.probe.key}, when ${c.probe.tolerance?.text ?? ""})`)}`,
      );
    printPlan(step.experiment, (line) => say(`   ${line}`));
    faults += [...step.experiment.method, ...step.experiment.rollbacks].filter(
      (s) => s.kind === "action",
    ).length;
  });
  say("");
  say(
    dim(
      `${faults} action${faults === 1 ? "" : "s"} in ${runbook.steps.filter((s) => s.kind === "experiment").length} experiments; nothing was touched`,
    ),
  );
}

import type { Logger } from "pino";
import type { Registry } from "../agents/registry.js";
import { errorMessage, exitCodeFor } from "../experiments/errors.js";
import type { Experiment } from "../experiments/model.js";
import { RunResources } from "../experiments/resources.js";
import { bold, dim, red, say } from "./output.js";

const RESOLVE_TIMEOUT_MS = 60_000;

/**
 * Prints, for every method step whose action can tell (`targets`), exactly what it would touch if the run
 * started now — resolved against the live system and touching nothing.
 * @returns 0, or the exit code of the first target that could not be resolved (the plan then cannot say what
 * a run would touch, and says so).
 */
export async function printTargets(e: Experiment, registry: Registry, log: Logger): Promise<number> {
  const steps = e.method.flatMap((s, i) => (s.kind === "action" ? [{ s, i }] : []));
  const resolvable = steps.filter(({ s }) => registry.action(s.ref).action.targets);
  if (resolvable.length === 0) return 0;
  say("  targets (resolved now; with the same seeds, a run touches these):");
  const resources = new RunResources(log);
  const context = () => ({
    runId: "plan",
    experiment: e.title,
    log,
    signal: AbortSignal.timeout(RESOLVE_TIMEOUT_MS),
    configuration: e.configuration,
    secrets: {},
    resources,
  });
  let code = 0;
  try {
    for (const name of new Set(resolvable.map(({ s }) => s.agent))) {
      const agent = registry.agents().find((a) => a.name === name);
      if (!agent?.whereItActs) continue;
      try {
        say(`    ${bold(name)} acts on ${await agent.whereItActs(context())}`);
      } catch (err) {
        say(red(`    ${name}: cannot tell where it would act: ${errorMessage(err)}`));
        code ||= exitCodeFor(err);
      }
    }
    for (const { s, i } of resolvable) {
      const { action } = registry.action(s.ref);
      try {
        const targets = await action.targets!({ target: s.target, args: s.args }, context());
        say(`    ${i + 1}. ${bold(s.ref)} ${dim(`would touch ${targets.length}:`)}`);
        for (const t of targets) say(`       ${t}`);
      } catch (err) {
        say(red(`    ${i + 1}. ${s.ref}: cannot tell what it would touch: ${errorMessage(err)}`));
        code ||= exitCodeFor(err);
      }
    }
  } finally {
    await resources.close();
  }
  return code;
}

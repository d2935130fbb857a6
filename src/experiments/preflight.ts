import type { Experiment } from "./model.js";
import type { RunScope } from "./run-scope.js";

/**
 * Every probe and action that can check itself does, before anything is touched: a query the server
 * rejects or a target that cannot take the fault stops the run before anything is injected.
 */
export async function preflight(experiment: Experiment, scope: RunScope): Promise<void> {
  const probes = [
    ...(experiment.steadyState?.probes ?? []),
    ...experiment.stopWhen.map((s) => s.probe),
    ...experiment.method.flatMap((s) => (s.kind === "probe" ? [s.probe] : [])),
  ];
  for (const spec of probes) {
    const { probe } = scope.registry.probe(spec.key);
    if (probe.preflight) await probe.preflight(scope.bind(spec.args) as Record<string, unknown>, scope.ctx);
  }
  for (const step of experiment.method) {
    if (step.kind !== "action") continue;
    const { action } = scope.registry.action(step.ref);
    if (!action.preflight) continue;
    const target = scope.bind(step.target) as Record<string, unknown>;
    await action.preflight({ target, args: scope.bind(step.args) as Record<string, unknown> }, scope.ctx);
  }
}

/** Prepares every agent the experiment uses and says where each acts, injecting nothing. */
export async function prepareAgents(experiment: Experiment, scope: RunScope): Promise<void> {
  const e = experiment;
  const used = new Set<string>([
    ...Object.keys(e.configuration),
    ...(e.steadyState?.probes ?? []).map((p) => p.agent),
    ...e.stopWhen.map((s) => s.probe.agent),
    ...e.method.flatMap((s) => (s.kind === "action" ? [s.agent] : s.kind === "probe" ? [s.probe.agent] : [])),
    ...e.rollbacks.map((s) => s.agent),
  ]);
  for (const agent of scope.registry.agents()) {
    if (!used.has(agent.name)) continue;
    if (agent.prepareRun) await agent.prepareRun(scope.ctx);
    if (agent.whereItActs)
      scope.emit({ type: "acting-on", agent: agent.name, where: await agent.whereItActs(scope.ctx) });
  }
}

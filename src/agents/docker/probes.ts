import type { ContainerInspectInfo } from "dockerode";
import { ChaosError } from "../../experiments/errors.js";
import type { AgentContext, ProbeDefinition, ProbeResult } from "../agent.js";
import { reasonOf, statusOf } from "./engine.js";
import { engineFor } from "./session.js";
import { findContainers, namesOne, readTarget, targetSchema } from "./target.js";

/** The probes take a target (all/select mean nothing to them, but one schema keeps targets alike). */
const args = targetSchema;

function checkName(a: Record<string, unknown>) {
  if (typeof a.name !== "string") return [];
  try {
    readTarget(a);
    return [];
  } catch (err) {
    return [{ path: ["name"], message: (err as Error).message }];
  }
}

/** Inspects each matching container; one removed between the listing and the inspect is left out. */
async function inspectMatches(
  a: Record<string, unknown>,
  ctx: AgentContext,
): Promise<ContainerInspectInfo[]> {
  const { containers } = await matches(a, ctx);
  const engine = await engineFor(ctx);
  const out: ContainerInspectInfo[] = [];
  for (const c of containers) {
    try {
      out.push(
        await engine.call(`inspect ${c.name}`, ctx.signal, (abortSignal) =>
          engine.docker.getContainer(c.id).inspect({ abortSignal }),
        ),
      );
    } catch (err) {
      if (statusOf(err) === 404) continue;
      if (err instanceof ChaosError) throw err;
      throw new ChaosError("agent", `cannot inspect container ${c.name}: ${reasonOf(err)}`, { cause: err });
    }
  }
  return out;
}

async function matches(a: Record<string, unknown>, ctx: AgentContext) {
  const target = readTarget(a);
  return { target, containers: await findContainers(await engineFor(ctx), target, ctx.signal) };
}

/**
 * How many matching containers run (paused ones do not): a number, or true/false when the target names one
 * container (an exact name or an id). Matching nothing is 0 or false, not an error: "it is down" is what
 * this probe exists to see.
 */
export const runningProbe: ProbeDefinition = {
  name: "running",
  description:
    "how many matching containers are running (true/false for an exact name or id); fields count, states",
  args,
  /** @throws ChaosError("invalid") for a bad target; ChaosError("agent") when the engine cannot be asked. */
  async run(a, ctx): Promise<ProbeResult> {
    const { target, containers } = await matches(a, ctx);
    const running = containers.filter((c) => c.state === "running");
    const states = Object.fromEntries(containers.map((c) => [c.name, c.state]));
    const summary =
      containers.length === 0
        ? "no container matches"
        : `${running.length} of ${containers.length} running (${containers.map((c) => `${c.name} ${c.state}`).join(", ")})`;
    const value = namesOne(target) ? running.length > 0 : running.length;
    return { value, fields: { count: containers.length, running: running.length, states }, summary };
  },
  check: checkName,
};

/**
 * The Docker health status (`healthy`, `unhealthy`, `starting`, or `none` without a healthcheck) of the one
 * matching container; with several matches, how many are healthy. Matching nothing is an empty result, which
 * fails unless the tolerance says `empty: pass`.
 */
export const healthyProbe: ProbeDefinition = {
  name: "healthy",
  description: "the health status of the matching container (with several: how many are healthy)",
  args,
  /** @throws ChaosError("invalid") for a bad target; ChaosError("agent") when the engine cannot be asked. */
  async run(a, ctx): Promise<ProbeResult> {
    const infos = await inspectMatches(a, ctx);
    const statuses = Object.fromEntries(
      infos.map((i) => [i.Name.replace(/^\//, ""), i.State.Health?.Status ?? "none"]),
    );
    const values = Object.values(statuses);
    if (values.length === 0) return { value: null, summary: "no container matches" };
    const summary = Object.entries(statuses)
      .map(([n, s]) => `${n} ${s}`)
      .join(", ");
    if (values.length === 1) return { value: values[0], fields: { statuses }, summary };
    const healthy = values.filter((s) => s === "healthy").length;
    return { value: healthy, fields: { statuses, count: values.length }, summary };
  },
  check: checkName,
};

/** The engine's restart count of the matching containers, summed. Matching nothing is an empty result. */
export const restartsProbe: ProbeDefinition = {
  name: "restarts",
  description: "how many times the engine restarted the matching containers (summed); fields per container",
  args,
  /** @throws ChaosError("invalid") for a bad target; ChaosError("agent") when the engine cannot be asked. */
  async run(a, ctx): Promise<ProbeResult> {
    const infos = await inspectMatches(a, ctx);
    if (infos.length === 0) return { value: null, summary: "no container matches" };
    const counts = Object.fromEntries(infos.map((i) => [i.Name.replace(/^\//, ""), i.RestartCount]));
    const total = Object.values(counts).reduce((s, n) => s + n, 0);
    return {
      value: total,
      fields: { restarts: counts },
      summary: `${total} restarts`,
    };
  },
  check: checkName,
};

import type { ActionDefinition, JsonSchema } from "../agent.js";
import type { Engine } from "./engine.js";
import { type ContainerAction, nameList, prepareContainerFault } from "./fault.js";
import { targetSchema } from "./target.js";

/** The args of stop and restart: how long the engine waits after SIGTERM before its SIGKILL. */
export const graceArgs: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    timeout: {
      type: "integer",
      minimum: 0,
      maximum: 600,
      default: 10,
      description: "seconds between SIGTERM and SIGKILL",
    },
  },
};

export const graceOf = (args: Record<string, unknown>) => (args.timeout as number | undefined) ?? 10;

/** Runs a call that waits out a grace period: its deadline is the engine's plus that period. */
export async function withGrace(
  engine: Engine,
  what: string,
  timeout: number,
  signal: AbortSignal,
  fn: (abortSignal: AbortSignal) => Promise<unknown>,
): Promise<{ timeout: number }> {
  await engine.call(what, signal, fn, timeout * 1000);
  return { timeout };
}

function stop(timeout: number): ContainerAction {
  return {
    name: "docker.stop",
    verb: "stopped",
    // An already-stopped container is left alone, so the revert never starts what this run did not stop.
    acts: (state) => state === "running" || state === "paused" || state === "restarting",
    revert: (containers) => ({ kind: "start", description: `start ${nameList(containers)}`, data: {} }),
    apply: (engine, c, signal) =>
      withGrace(engine, `stop ${c.name}`, timeout, signal, (abortSignal) =>
        engine.docker.getContainer(c.id).stop({ t: timeout, abortSignal }),
      ),
  };
}

/** Stops the matching containers (SIGTERM, then SIGKILL after `timeout` seconds); the revert starts them. */
export const stopAction: ActionDefinition = {
  name: "stop",
  description: "stop the matching containers (docker stop); the revert starts them again",
  target: targetSchema,
  args: graceArgs,
  /** @throws ChaosError("agent") when no live container (or, without all/select, several) match. */
  prepare: (input, ctx) => prepareContainerFault(stop(graceOf(input.args)), input, ctx),
};

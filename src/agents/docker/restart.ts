import type { ActionDefinition } from "../agent.js";
import { type ContainerAction, prepareContainerFault } from "./fault.js";
import { graceArgs, graceOf, withGrace } from "./stop.js";
import { targetSchema } from "./target.js";

function restart(timeout: number): ContainerAction {
  return {
    name: "docker.restart",
    verb: "restarted",
    acts: (state) => state !== "removing" && state !== "dead",
    apply: (engine, c, signal) =>
      withGrace(engine, `restart ${c.name}`, timeout, signal, (abortSignal) =>
        engine.docker.getContainer(c.id).restart({ t: timeout, abortSignal }),
      ),
  };
}

/** Restarts the matching containers (docker restart). Nothing to revert: they end up running. */
export const restartAction: ActionDefinition = {
  name: "restart",
  description: "restart the matching containers (stop with a grace period, then start)",
  target: targetSchema,
  args: graceArgs,
  /** @throws ChaosError("agent") when no container (or, without all/select, several) match. */
  prepare: (input, ctx) => prepareContainerFault(restart(graceOf(input.args)), input, ctx),
};

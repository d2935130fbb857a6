import type { ActionDefinition } from "../agent.js";
import { type ContainerAction, nameList, prepareContainerFault } from "./fault.js";
import { targetSchema } from "./target.js";

const pause: ContainerAction = {
  name: "docker.pause",
  verb: "paused",
  // An already-paused container is left alone, so the revert never unpauses what this run did not pause.
  acts: (state) => state === "running",
  revert: (containers) => ({ kind: "unpause", description: `unpause ${nameList(containers)}`, data: {} }),
  apply: (engine, c, signal) =>
    engine.call(`pause ${c.name}`, signal, (abortSignal) =>
      engine.docker.getContainer(c.id).pause({ abortSignal }),
    ),
};

/** Freezes every process of the matching running containers (cgroup freezer); the revert unpauses them. */
export const pauseAction: ActionDefinition = {
  name: "pause",
  description: "freeze the matching running containers until the fault is reverted (unpause)",
  target: targetSchema,
  args: { type: "object", additionalProperties: false, properties: {} },
  /** @throws ChaosError("agent") when no running container (or, without all/select, several) match. */
  prepare: (input, ctx) => prepareContainerFault(pause, input, ctx),
};

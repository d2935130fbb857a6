import type { ActionDefinition } from "../agent.js";
import { deadlineArg, prepareStressFault } from "./fault.js";
import { CONTROLLERS, logTarget, resolveStressTarget, targetSchema } from "./target.js";
import { targetCores } from "./usage.js";

/** Burns CPU inside the target's cgroup, so it competes for the target's own quota; the revert stops it. */
export const cpuAction: ActionDefinition = {
  name: "cpu",
  description: "burn CPU inside the target's cgroup (or on the host) for the fault's duration",
  target: targetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      workers: {
        type: "integer",
        minimum: 1,
        maximum: 1024,
        description:
          "threads burning CPU (default: one per core of the target's CPU limit, else of the machine)",
      },
      load: {
        type: "integer",
        minimum: 1,
        maximum: 100,
        default: 100,
        description: "percent of one core each worker burns",
      },
      deadline: deadlineArg,
    },
  },
  /** @throws ChaosError("agent") when the target cannot be found; ChaosError("invalid") when it is the toolkit's. */
  async prepare(input, ctx) {
    const target = await resolveStressTarget(input.target, ctx, CONTROLLERS.cpu);
    logTarget(ctx.log, target);
    const { cores, limited } = await targetCores(target);
    const workers =
      typeof input.args.workers === "number" ? input.args.workers : Math.max(1, Math.ceil(cores));
    const load = typeof input.args.load === "number" ? input.args.load : 100;
    return prepareStressFault({
      kind: "cpu",
      target,
      input,
      ctx,
      description: `burning ${workers} CPU worker${workers === 1 ? "" : "s"} at ${load}% on ${target.label}`,
      spec: { workers, load },
      output: { workers, load, ...(limited ? { limitCores: cores } : {}) },
    });
  },
};

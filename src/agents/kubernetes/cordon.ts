import type { ActionDefinition, RevertDescription } from "../agent.js";
import { cluster } from "./cluster.js";
import { nodeObject, REASONS, recordEvents } from "./events.js";
import { patchCordon, readNode } from "./node.js";

/**
 * Cordons a node (no new pods are scheduled on it). The revert uncordons it only if this run cordoned it:
 * a node that was already cordoned is left as it was, and the revert checks the run's annotation first.
 */
export const cordonAction: ActionDefinition = {
  name: "cordon",
  description: "mark a node unschedulable; reverted (uncordoned) only if this run cordoned it",
  target: {
    type: "object",
    additionalProperties: false,
    required: ["node"],
    properties: { node: { type: "string", minLength: 1, maxLength: 253, description: "the node's name" } },
  },
  args: { type: "object", additionalProperties: false, properties: {} },
  /** @throws ChaosError("agent") when the node does not exist or cannot be read. */
  async prepare(input, ctx) {
    const c = await cluster(ctx);
    const name = input.target.node as string;
    const before = await readNode(c, name, ctx.signal);
    const locks = [c.lockKey("node", undefined, name)];
    if (before.unschedulable) {
      return {
        locks,
        async apply() {
          ctx.log.info({ node: name }, "node already cordoned; left as it is");
          return { node: name, cordoned: false, reason: "already cordoned" };
        },
      };
    }
    const revert: RevertDescription = {
      agent: "kubernetes",
      kind: "uncordon",
      description: `uncordon node ${name}`,
      data: { cluster: { ...c.ref }, node: name, runId: ctx.runId },
    };
    return {
      revert,
      locks,
      async apply() {
        await patchCordon(c, name, ctx.runId, ctx.signal);
        ctx.log.info({ node: name }, "node cordoned");
        const events = await recordEvents(c, ctx, [nodeObject(name, before.uid)], {
          reason: REASONS.applied,
          what: "kubernetes.cordon: node cordoned (unschedulable)",
        });
        return { node: name, cordoned: true, ...(events ? { events } : {}) };
      },
    };
  },
};

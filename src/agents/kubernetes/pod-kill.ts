import { DURATION_PATTERN, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition } from "../agent.js";
import { KubeApiError } from "./call.js";
import { cluster } from "./cluster.js";
import { mapLimit } from "./concurrency.js";
import { type PodInfo, podTargetSchema, readPodTarget, resolvePods } from "./target.js";

/** Deletes in flight at once: enough to kill a thousand pods in seconds, few enough not to flood the API. */
const CONCURRENCY = 16;

/**
 * Reads `grace-period`, a duration with a unit ("0s", "30s"), as the whole seconds the API takes; 0 kills at once.
 * @throws ChaosError("invalid") for a value without a unit or one that is not a duration.
 */
export function gracePeriodSeconds(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string") {
    throw new ChaosError("invalid", `grace-period ${JSON.stringify(raw)} needs a unit`, {
      hint: 'write e.g. "0s" or "30s"',
    });
  }
  return Math.ceil(parseDuration(raw) / 1000);
}

/**
 * Deletes the selected pods (their controllers replace them). Nothing to revert. A pod already gone, or
 * replaced by another pod of the same name (the uid precondition fails), counts as gone.
 */
export const podKillAction: ActionDefinition = {
  name: "pod-kill",
  description: "delete the selected pods (grace-period 0 kills them at once); their controllers replace them",
  target: podTargetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      "grace-period": {
        type: "string",
        pattern: DURATION_PATTERN,
        description: 'how long the pods may take to stop, e.g. "0s" (default: each pod\'s own)',
      },
    },
  },
  /** @throws ChaosError("invalid") for a protected namespace; ChaosError("agent") when no pod matches. */
  async prepare(input, ctx) {
    const grace = gracePeriodSeconds(input.args["grace-period"]);
    const c = await cluster(ctx);
    const target = readPodTarget(input.target);
    const { pods } = await resolvePods(c, target, ctx.signal, ctx.log);
    return {
      locks: pods.map((p) => c.lockKey("pod", p.namespace, p.name)),
      async apply() {
        const killed: string[] = [];
        const gone: string[] = [];
        const deleteAll = mapLimit(pods, CONCURRENCY, async (pod: PodInfo) => {
          const spec = {
            verb: "delete",
            resource: "pods",
            namespace: pod.namespace,
            name: pod.name,
          } as const;
          try {
            await c.call(spec, ctx.signal, (o) =>
              c.core.deleteNamespacedPod(
                {
                  name: pod.name,
                  namespace: pod.namespace,
                  gracePeriodSeconds: grace,
                  // A pod whose name can come back (a StatefulSet's, or one made by hand) is deleted only if it
                  // is still the one selected. The precondition travels in a body, and undici closes the
                  // connection after a DELETE with a body, so pods with generated names go without it.
                  ...(pod.generatedName ? {} : { body: { preconditions: { uid: pod.uid } } }),
                },
                o,
              ),
            );
            killed.push(pod.name);
          } catch (err) {
            if (!(err instanceof KubeApiError) || (err.status !== 404 && err.status !== 409)) throw err;
            gone.push(pod.name);
          }
        });
        try {
          await deleteAll;
        } catch (err) {
          // Say how far it got: the journal keeps this message, and those pods are gone whatever happens next.
          const names = killed.sort().slice(0, 20).join(", ") + (killed.length > 20 ? ", …" : "");
          const done = killed.length
            ? `; ${killed.length} of ${pods.length} pods were deleted: ${names}`
            : "";
          throw new KubeApiError((err as KubeApiError).status, `${(err as Error).message}${done}`, {
            cause: err,
            hint: (err as KubeApiError).hint,
          });
        }
        ctx.log.info({ killed: killed.length, gone: gone.length, gracePeriod: grace }, "pods deleted");
        return {
          killed: killed.sort(),
          gone: gone.sort(),
          ...(grace === undefined ? {} : { gracePeriod: grace }),
        };
      },
    };
  },
};

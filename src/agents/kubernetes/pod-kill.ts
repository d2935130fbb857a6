import { DURATION_PATTERN, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition } from "../agent.js";
import { KubeApiError } from "./call.js";
import { cluster } from "./cluster.js";
import { mapLimit } from "./concurrency.js";
import { podObject, REASONS, recordEvents } from "./events.js";
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

/** The DeleteOptions of one pod's deletion or eviction: always a uid precondition, the grace period if given. */
function deleteOptions(pod: PodInfo, grace: number | undefined) {
  return { ...(grace === undefined ? {} : { gracePeriodSeconds: grace }), preconditions: { uid: pod.uid } };
}

/**
 * A grace period of 0 is a force deletion: the API forgets the pod before its kubelet has stopped it, and a
 * StatefulSet may start its successor under the same name meanwhile, two copies of one identity at once.
 * @throws ChaosError("invalid") naming the StatefulSet pods, unless `force` is set.
 */
function refuseForcedStatefulSetKill(pods: PodInfo[], grace: number | undefined, force: boolean): void {
  if (grace !== 0 || force) return;
  const stateful = pods.filter((p) => p.owner === "StatefulSet").map((p) => p.name);
  if (stateful.length === 0) return;
  throw new ChaosError(
    "invalid",
    `grace-period 0s would force-delete StatefulSet pods (${stateful.slice(0, 5).join(", ")}${stateful.length > 5 ? ", …" : ""}): the StatefulSet may start a pod of the same name before the old one has stopped, breaking its at-most-one guarantee`,
    { hint: 'give a grace period such as "1s", or set force: true in args if that is what you mean to test' },
  );
}

/**
 * Deletes the selected Running pods (their controllers replace them), or evicts them (`mode: evict`) through
 * the eviction subresource, which honours PodDisruptionBudgets where a DELETE bypasses them. Nothing to
 * revert. A pod already gone, or replaced by another pod of the same name (the uid precondition fails),
 * counts as gone; a pod nothing owns is deleted for good, and the output says so.
 */
export const podKillAction: ActionDefinition = {
  name: "pod-kill",
  description:
    "delete (or evict, honouring PodDisruptionBudgets) the selected Running pods; their controllers replace them",
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
      mode: {
        enum: ["delete", "evict"],
        default: "delete",
        description: "delete bypasses PodDisruptionBudgets; evict asks the eviction API, which honours them",
      },
      force: {
        type: "boolean",
        default: false,
        description: "allow grace-period 0s on StatefulSet pods (a force deletion)",
      },
    },
  },
  /**
   * @throws ChaosError("invalid") for a protected namespace or a force deletion of StatefulSet pods without
   * `force`; ChaosError("agent") when no Running pod matches.
   */
  async prepare(input, ctx) {
    const grace = gracePeriodSeconds(input.args["grace-period"]);
    const evict = input.args.mode === "evict";
    const c = await cluster(ctx);
    const target = readPodTarget(input.target);
    const { pods } = await resolvePods(c, target, ctx.signal, ctx.log);
    refuseForcedStatefulSetKill(pods, grace, input.args.force === true);
    const unowned = pods.filter((p) => !p.owner).map((p) => p.name);
    return {
      locks: pods.map((p) => c.lockKey("pod", p.namespace, p.name)),
      async apply() {
        if (unowned.length) {
          ctx.log.warn(
            { pods: unowned },
            "pods with no controller are deleted for good: nothing replaces them",
          );
        }
        const killed: string[] = [];
        const gone: string[] = [];
        const refused: string[] = [];
        const one = async (pod: PodInfo) => {
          const where = { namespace: pod.namespace, name: pod.name };
          try {
            if (evict) {
              await c.call(
                { verb: "create", resource: "pods/eviction", ...where },
                ctx.signal,
                (o) =>
                  c.core.createNamespacedPodEviction(
                    {
                      ...where,
                      body: {
                        apiVersion: "policy/v1",
                        kind: "Eviction",
                        metadata: where,
                        deleteOptions: deleteOptions(pod, grace),
                      },
                    },
                    o,
                  ),
                undefined,
                1, // a 429 here is a disruption budget saying no, not a busy server: asking again changes nothing
              );
            } else {
              // The real API server reads DeleteOptions from the body when there is one and then ignores the
              // query, so the grace period travels in the body with the uid precondition. undici closes the
              // connection after a DELETE with a body, so a pod whose name never recurs and that has no grace
              // period to pass goes without one.
              const body = grace !== undefined || pod.nameRecurs ? deleteOptions(pod, grace) : undefined;
              await c.call({ verb: "delete", resource: "pods", ...where }, ctx.signal, (o) =>
                c.core.deleteNamespacedPod({ ...where, ...(body ? { body } : {}) }, o),
              );
            }
            killed.push(pod.name);
          } catch (err) {
            if (evict && err instanceof KubeApiError && err.status === 429)
              return void refused.push(pod.name);
            if (!(err instanceof KubeApiError) || (err.status !== 404 && err.status !== 409)) throw err;
            gone.push(pod.name);
          }
        };
        try {
          await mapLimit(pods, CONCURRENCY, one);
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
        if (evict && killed.length === 0 && refused.length > 0) {
          // A fault that did not happen must not let the run claim the system held through it.
          throw new ChaosError(
            "agent",
            `every eviction was refused by a PodDisruptionBudget (${refused.sort().join(", ")}): no pod was evicted`,
            { hint: "the budget allows no disruption now; relax it, or use mode: delete to bypass it" },
          );
        }
        ctx.log.info(
          { killed: killed.length, gone: gone.length, refused: refused.length, gracePeriod: grace },
          evict ? "pods evicted" : "pods deleted",
        );
        const hit = new Set(killed);
        const events = await recordEvents(c, ctx, pods.filter((p) => hit.has(p.name)).map(podObject), {
          reason: REASONS.applied,
          what: `kubernetes.pod-kill: pod ${evict ? "evicted" : "deleted"}${grace === undefined ? "" : ` (grace period ${grace}s)`}`,
        });
        return {
          ...(events ? { events } : {}),
          killed: killed.sort(),
          gone: gone.sort(),
          ...(evict ? { mode: "evict", refused: refused.sort() } : {}),
          ...(unowned.length
            ? { unowned: unowned.sort(), warning: "pods with no controller are gone for good" }
            : {}),
          ...(grace === undefined ? {} : { gracePeriod: grace }),
        };
      },
    };
  },
};

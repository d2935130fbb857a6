import { ChaosError } from "../../experiments/errors.js";
import type { ProbeDefinition } from "../agent.js";
import { cluster } from "./cluster.js";
import { checkPodProbe, listPods, podProbeProperties, podProbeSchema, readPodTarget } from "./target.js";

/**
 * Ready pods among those a target matches. `value` is the number ready; `ratio` is NaN when nothing
 * matches, so "all pods ready" can never pass on an empty namespace unless the experiment says so.
 */
export const podsReadyProbe: ProbeDefinition = {
  name: "pods-ready",
  description: "how many of the matching pods are Ready (fields ready, total, ratio)",
  args: podProbeSchema,
  check: checkPodProbe,
  /** @throws ChaosError("agent") when the pods cannot be listed. */
  async run(args, ctx) {
    const c = await cluster(ctx);
    const pods = (await listPods(c, readPodTarget(args), ctx.signal)).filter(
      // A Failed or Succeeded pod will never be Ready again: counting it would make "all ready" unreachable.
      (p) => !p.terminating && p.phase !== "Failed" && p.phase !== "Succeeded",
    );
    const ready = pods.filter((p) => p.ready).length;
    const ratio = pods.length ? ready / pods.length : Number.NaN;
    return {
      value: ready,
      fields: { ready, total: pods.length, ratio },
      summary: `${ready}/${pods.length} ready`,
    };
  },
};

const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown"] as const;

type Condition = { type: string; status: string };

/**
 * The matching pods by phase, as the API lists them (terminating ones included): `value` is how many are in
 * `phase` and carry every one of `conditions`, or all of them without either; fields give the count of
 * each phase and the total.
 */
export const podsProbe: ProbeDefinition = {
  name: "pods",
  description:
    "how many of the matching pods are in a phase and carry the given conditions (all without either); fields total and one per phase",
  args: {
    ...podProbeSchema,
    properties: {
      ...podProbeProperties,
      phase: { enum: [...PHASES], description: "count only the pods in this phase" },
      conditions: {
        type: "array",
        minItems: 1,
        items: {
          type: "object",
          additionalProperties: false,
          required: ["type", "status"],
          properties: {
            type: { type: "string", minLength: 1, description: 'a condition type, e.g. "Ready"' },
            status: { type: "string", minLength: 1, description: '"True", "False" or "Unknown"' },
          },
        },
        description:
          'count only the pods with every one of these status.conditions, e.g. [{type: Ready, status: "True"}]',
      },
    },
  },
  check: checkPodProbe,
  /** @throws ChaosError("agent") when the pods cannot be listed. */
  async run(args, ctx) {
    const c = await cluster(ctx);
    const pods = await listPods(c, readPodTarget(args), ctx.signal);
    const fields: Record<string, number> = { total: pods.length };
    for (const phase of PHASES) fields[phase.toLowerCase()] = 0;
    for (const p of pods) {
      const key = (p.phase ?? "Unknown").toLowerCase();
      fields[key] = (fields[key] ?? 0) + 1;
    }
    const phase = args.phase as string | undefined;
    const conditions = (args.conditions as Condition[] | undefined) ?? [];
    const value = pods.filter(
      (p) =>
        (!phase || (p.phase ?? "Unknown") === phase) &&
        conditions.every((w) => p.conditions.some((h) => h.type === w.type && h.status === w.status)),
    ).length;
    const what = [phase, ...conditions.map((w) => `${w.type}=${w.status}`)].filter(Boolean).join(", ");
    return {
      value,
      fields,
      summary: what ? `${value}/${pods.length} ${what}` : `${value} pods`,
    };
  },
};

/** Container restarts summed over the matching pods: a crash loop shows as a growing number. */
export const restartsProbe: ProbeDefinition = {
  name: "restarts",
  description: "container restarts summed over the matching pods (fields total, max, pods)",
  args: podProbeSchema,
  check: checkPodProbe,
  /** @throws ChaosError("agent") when the pods cannot be listed. */
  async run(args, ctx) {
    const c = await cluster(ctx);
    const pods = await listPods(c, readPodTarget(args), ctx.signal);
    const total = pods.reduce((n, p) => n + p.restarts, 0);
    const max = pods.reduce((n, p) => Math.max(n, p.restarts), 0);
    return {
      value: total,
      fields: { total, max, pods: pods.length },
      summary: `${total} restarts in ${pods.length} pods`,
    };
  },
};

/** A Deployment's rollout status: `value` is its available replicas. */
export const deploymentProbe: ProbeDefinition = {
  name: "deployment",
  description: "a Deployment's replicas: value available; fields replicas, available, ready, updated",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["namespace", "name"],
    properties: {
      namespace: { type: "string", minLength: 1 },
      name: { type: "string", minLength: 1, description: "the Deployment's name" },
    },
  },
  /** @throws ChaosError("agent") when the Deployment does not exist or cannot be read. */
  async run(args, ctx) {
    const c = await cluster(ctx);
    const namespace = args.namespace as string;
    const name = args.name as string;
    const d = await c.call({ verb: "get", resource: "deployments", namespace, name }, ctx.signal, (o) =>
      c.apps.readNamespacedDeployment({ name, namespace }, o),
    );
    if (!d.spec) throw new ChaosError("agent", `deployment ${namespace}/${name} has no spec`);
    const s = d.status ?? {};
    const fields = {
      replicas: d.spec.replicas ?? 1,
      available: s.availableReplicas ?? 0,
      ready: s.readyReplicas ?? 0,
      updated: s.updatedReplicas ?? 0,
    };
    return {
      value: fields.available,
      fields,
      summary: `${fields.available}/${fields.replicas} available, ${fields.ready} ready, ${fields.updated} updated`,
    };
  },
};

import type { V1Pod } from "@kubernetes/client-node";
import { ChaosError } from "../../experiments/errors.js";
import type { AgentContext } from "../agent.js";
import { KubeApiError } from "./call.js";
import { type Cluster, cluster } from "./cluster.js";
import { readPodTarget, resolvePods } from "./target.js";

/**
 * What a pod uses, as a cluster measures it: the resource metrics API (metrics.k8s.io/v1beta1 PodMetrics,
 * served by metrics-server, what `kubectl top pod` reads), and the limits of the pod's spec.
 *
 *   stress.cpu-usage / stress.memory-usage { target: { pod } }
 *     ─ resolve one pod ─▶ GET pods/{name} (limits) ─▶ GET metrics.k8s.io/v1beta1/…/pods/{name} (usage)
 *
 * The usage is the whole pod's (every container, the stressor's ephemeral one included: they all sit in the
 * pod's cgroup), or one container's when `target.pod.container` names it. Nothing seen is never a reading:
 * no metrics API, no metrics for the pod yet, a container without metrics, or a reading older than
 * STALE_MS fail the probe (the run "could not see"), they never pass it.
 */

/** A reading older than this is not the pod's usage now (metrics-server scrapes every 15 to 60 s). */
export const STALE_MS = 5 * 60_000;

export interface PodUsage {
  /** "pod shop/payments-0" or "container app of pod shop/payments-0". */
  label: string;
  cores: number;
  bytes: number;
  /** The limit of what was measured (the pod's is the sum of its containers', when each has one). */
  cpuLimit?: number;
  memoryLimit?: number;
  /** The interval the CPU rate was measured over, as the API says it ("15s"). */
  window?: string;
  /** When the usage was measured. */
  timestamp: string;
}

const SCALE: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/**
 * A Kubernetes resource quantity ("250m", "12345678n", "65536Ki", "1.5", "1e3") as a number of its unit.
 * @returns undefined when it is not a quantity.
 */
export function parseQuantity(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const m = QUANTITY.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]) * (m[2] ? 10 ** Number(m[2].slice(1)) : SCALE[m[3] ?? ""]!);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * A resource's limit, in its own unit (cores for cpu, bytes for memory): the container's, or the pod's (the
 * sum, only when every container has one).
 */
export function containerLimit(
  pod: V1Pod,
  container: string | undefined,
  resource: "cpu" | "memory",
): number | undefined {
  const containers = (pod.spec?.containers ?? []).filter((c) => !container || c.name === container);
  let sum = 0;
  for (const c of containers) {
    const limit = parseQuantity(c.resources?.limits?.[resource]);
    if (limit === undefined) return undefined;
    sum += limit;
  }
  return containers.length ? sum : undefined;
}

interface PodMetrics {
  timestamp?: string;
  window?: string;
  containers?: { name?: string; usage?: Record<string, string> }[];
}

async function readMetrics(c: Cluster, namespace: string, name: string, signal: AbortSignal) {
  const api = c.kubeConfig!.makeApiClient(c.lib.CustomObjectsApi);
  try {
    return (await c.call({ verb: "get", resource: "pods.metrics.k8s.io", namespace, name }, signal, (o) =>
      api.getNamespacedCustomObject(
        { group: "metrics.k8s.io", version: "v1beta1", namespace, plural: "pods", name },
        o,
      ),
    )) as PodMetrics;
  } catch (err) {
    if (!(err instanceof KubeApiError)) throw err;
    if (err.status === 404 && /could not find the requested resource/.test(err.message)) {
      throw new ChaosError("agent", "the cluster serves no resource metrics API (metrics.k8s.io/v1beta1)", {
        cause: err,
        hint: "install metrics-server (kubectl top pod reads the same API); without it a pod's usage cannot be seen",
      });
    }
    if (err.status === 404) {
      throw new ChaosError("agent", `the metrics API has no usage of pod ${namespace}/${name} yet`, {
        cause: err,
        hint: "metrics-server reports a pod after its first scrapes (15 to 60 s after it starts)",
      });
    }
    if (err.status === 403) {
      throw new ChaosError("agent", `the cluster forbids reading the metrics of pod ${namespace}/${name}`, {
        cause: err,
        hint: 'grant the verb "get" on "pods" in the API group "metrics.k8s.io" (see deploy/rbac.yaml)',
      });
    }
    throw err;
  }
}

/**
 * The usage of the one pod a probe's `target.pod` names (several need `select: { mode: one }`).
 * @throws ChaosError("agent") when no pod or several match, or the usage cannot be seen (see above).
 */
export async function podUsage(raw: Record<string, unknown>, ctx: AgentContext): Promise<PodUsage> {
  const c = await cluster(ctx);
  const target = readPodTarget(raw);
  const { pods } = await resolvePods(c, target, ctx.signal, ctx.log);
  if (pods.length !== 1) {
    throw new ChaosError("agent", `a usage probe reads one pod, and ${pods.length} are selected`, {
      hint: "name one pod (names: [...]) or set select: { mode: one }",
    });
  }
  const { namespace, name } = pods[0]!;
  const container = typeof raw.container === "string" ? raw.container : undefined;
  const label = `${container ? `container ${container} of ` : ""}pod ${namespace}/${name}`;
  const pod = await c.call({ verb: "get", resource: "pods", namespace, name }, ctx.signal, (o) =>
    c.core.readNamespacedPod({ name, namespace }, o),
  );
  if (container && !pod.spec?.containers?.some((x) => x.name === container)) {
    throw new ChaosError("agent", `pod ${namespace}/${name} has no container "${container}"`, {
      hint: `its containers: ${(pod.spec?.containers ?? []).map((x) => x.name).join(", ") || "none"}`,
    });
  }
  const metrics = await readMetrics(c, namespace, name, ctx.signal);
  const measured = (metrics.containers ?? []).filter((m) => !container || m.name === container);
  const blind = (why: string) =>
    new ChaosError("agent", `cannot see the usage of ${label}: ${why}`, {
      hint: "the metrics API (metrics-server) answered, but not with a usable reading",
    });
  if (measured.length === 0) throw blind("the metrics API lists no container of it");
  let cores = 0;
  let bytes = 0;
  for (const m of measured) {
    const cpu = parseQuantity(m.usage?.cpu);
    const memory = parseQuantity(m.usage?.memory);
    if (cpu === undefined || memory === undefined)
      throw blind(`container ${m.name} has no readable usage (${JSON.stringify(m.usage ?? null)})`);
    cores += cpu;
    bytes += memory;
  }
  const at = Date.parse(metrics.timestamp ?? "");
  if (!Number.isFinite(at)) throw blind("the reading has no timestamp");
  if (Date.now() - at > STALE_MS)
    throw blind(`the reading is from ${metrics.timestamp}, more than ${STALE_MS / 60_000} minutes ago`);
  return {
    label,
    cores,
    bytes: Math.round(bytes),
    cpuLimit: containerLimit(pod, container, "cpu"),
    memoryLimit: containerLimit(pod, container, "memory"),
    window: metrics.window,
    timestamp: metrics.timestamp!,
  };
}

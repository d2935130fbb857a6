import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import type { JsonSchema } from "../agent.js";
import { type Selection, selectionSchema, selectTargets } from "../selection.js";
import { KubeApiError } from "./call.js";
import type { Cluster } from "./cluster.js";
import { mapLimit } from "./concurrency.js";

/**
 * Pods as an experiment names them: a namespace plus `labels`, a `selector` string, a `fields` selector or
 * exact `names`; `select` chooses among several matches. Lists are paginated, and only the few fields the
 * agent needs are kept, so a namespace of tens of thousands of pods stays cheap.
 */

const PAGE = 500;

const NAME = { type: "string", minLength: 1, maxLength: 253 };

/** `namespace` plus one or more ways to match pods; shared by actions and probes. */
export const podMatchProperties: Record<string, JsonSchema> = {
  namespace: { ...NAME, description: "the namespace of the pods" },
  labels: {
    type: "object",
    minProperties: 1,
    additionalProperties: { type: "string" },
    description: "pods carrying all these labels",
  },
  selector: { type: "string", minLength: 1, description: 'a label selector, e.g. "app in (a,b),tier!=db"' },
  fields: { type: "string", minLength: 1, description: 'a field selector, e.g. "status.phase=Running"' },
  names: { type: "array", minItems: 1, items: NAME, description: "exact pod names" },
};

const matchOneOf = ["labels", "selector", "fields", "names"].map((k) => ({
  required: [k],
  properties: { [k]: true },
}));

/** The `target` of a pod probe: which pods to look at. */
export const podProbeSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["namespace"],
  properties: podMatchProperties,
  anyOf: matchOneOf,
};

/** The `target` of a pod action: which pods, how many of them, and whether a protected namespace is meant. */
export const podTargetSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["namespace"],
  properties: {
    ...podMatchProperties,
    select: selectionSchema,
    "allow-protected": {
      type: "boolean",
      default: false,
      description: "act in kube-system and the other protected namespaces",
    },
  },
  anyOf: matchOneOf,
};

export interface PodTarget {
  namespace: string;
  labels?: Record<string, string>;
  selector?: string;
  fields?: string;
  names?: string[];
  select?: Selection;
  allowProtected: boolean;
}

/** What the agent keeps of a pod. */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  /** The name was generated (a ReplicaSet's, Job's or DaemonSet's pod): it never names another pod later. */
  generatedName: boolean;
  node?: string;
  ready: boolean;
  restarts: number;
  terminating: boolean;
}

/** Reads a validated target block. */
export function readPodTarget(raw: Record<string, unknown>): PodTarget {
  return {
    namespace: raw.namespace as string,
    labels: raw.labels as Record<string, string> | undefined,
    selector: raw.selector as string | undefined,
    fields: raw.fields as string | undefined,
    names: raw.names as string[] | undefined,
    select: raw.select as Selection | undefined,
    allowProtected: raw["allow-protected"] === true,
  };
}

/** The label selector a target means: its `labels` as `k=v` terms, then its `selector`. */
export function labelSelector(t: Pick<PodTarget, "labels" | "selector">): string | undefined {
  const terms = Object.entries(t.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  if (t.selector) terms.push(t.selector);
  return terms.length ? terms.join(",") : undefined;
}

/** "pods app=payments in namespace shop" — for messages and plans. */
export function describePods(t: PodTarget): string {
  const parts = [
    labelSelector(t) && `labels ${labelSelector(t)}`,
    t.fields && `fields ${t.fields}`,
    t.names && `names ${t.names.join(", ")}`,
  ].filter(Boolean);
  return `pods with ${parts.join(" and ")} in namespace ${t.namespace}`;
}

/**
 * Refuses a protected namespace unless the target allows it; runs before any API call.
 * @throws ChaosError("invalid") naming the namespace and how to allow it.
 */
export function assertNotProtected(namespace: string, allow: boolean, protectedNamespaces: string[]): void {
  if (allow || !protectedNamespaces.includes(namespace)) return;
  throw new ChaosError("invalid", `namespace ${namespace} is protected: the toolkit does not act in it`, {
    hint: "target another namespace, or set allow-protected: true on the target if this is really intended",
  });
}

export function podInfo(p: V1Pod): PodInfo {
  const statuses = p.status?.containerStatuses ?? [];
  return {
    namespace: p.metadata?.namespace ?? "",
    name: p.metadata?.name ?? "",
    uid: p.metadata?.uid ?? "",
    generatedName: Boolean(p.metadata?.generateName),
    node: p.spec?.nodeName,
    ready: (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
    restarts: statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0),
    terminating: p.metadata?.deletionTimestamp !== undefined,
  };
}

/**
 * Asks for metadata only (a PartialObjectMetadataList, as kubectl and controllers do): an action needs a pod's
 * name, uid and deletion state, and skipping specs and statuses makes a list of a large namespace several
 * times smaller to send, parse and hold.
 */
const METADATA_ONLY = {
  Accept: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
};

/**
 * Every pod the target matches (possibly none), sorted by name; pages through large namespaces. With
 * `metadataOnly`, `ready`, `restarts` and `node` are not known (false, 0, undefined).
 * @throws KubeApiError when a list or get fails.
 */
export async function listPods(
  cluster: Cluster,
  t: PodTarget,
  signal: AbortSignal,
  opts: { metadataOnly?: boolean } = {},
): Promise<PodInfo[]> {
  const found: PodInfo[] = [];
  if (t.names) {
    const pods = await mapLimit(t.names, 8, async (name) => {
      try {
        return await cluster.call(
          { verb: "get", resource: "pods", namespace: t.namespace, name },
          signal,
          (o) => cluster.core.readNamespacedPod({ name, namespace: t.namespace }, o),
        );
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }
    });
    const selector = labelSelector(t);
    for (const p of pods) if (p) found.push(podInfo(p));
    // Exact names combined with selectors: list the selection and keep the named pods found in both.
    if (selector || t.fields) {
      const matching = new Set(
        (await listPods(cluster, { ...t, names: undefined }, signal)).map((p) => p.uid),
      );
      return found.filter((p) => matching.has(p.uid)).sort(byName);
    }
    return found.sort(byName);
  }
  let cont: string | undefined;
  do {
    const page = await cluster.call(
      { verb: "list", resource: "pods", namespace: t.namespace },
      signal,
      (o) =>
        cluster.core.listNamespacedPod(
          {
            namespace: t.namespace,
            labelSelector: labelSelector(t),
            fieldSelector: t.fields,
            limit: PAGE,
            _continue: cont,
          },
          o,
        ),
      opts.metadataOnly ? METADATA_ONLY : undefined,
    );
    if (!Array.isArray(page.items)) {
      throw new KubeApiError(
        undefined,
        `kubernetes: list pods in namespace ${t.namespace}: unexpected answer without items`,
        {
          hint: "the server at the kubeconfig's address may not be a Kubernetes API server",
        },
      );
    }
    for (const p of page.items) found.push(podInfo(p));
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return found.sort(byName);
}

const byName = (a: PodInfo, b: PodInfo) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function list(pods: PodInfo[]): string {
  const shown = pods.slice(0, 10).map((p) => p.name);
  return shown.join(", ") + (pods.length > shown.length ? `, … ${pods.length - shown.length} more` : "");
}

/**
 * The pods an action will touch: the live (not terminating) matches, narrowed by `select`. Several matches
 * need `select` (or exact `names`); `max` caps the blast radius. Nothing is touched here.
 * @throws ChaosError("invalid") for a protected namespace; ChaosError("agent") when nothing matches, several
 * match without `select`, the selection exceeds `max`, or the API fails.
 */
export async function resolvePods(
  cluster: Cluster,
  t: PodTarget,
  signal: AbortSignal,
  log?: Logger,
): Promise<{ pods: PodInfo[]; matched: number; seed?: number }> {
  assertNotProtected(t.namespace, t.allowProtected, cluster.config.protectedNamespaces);
  const live = (await listPods(cluster, t, signal, { metadataOnly: true })).filter((p) => !p.terminating);
  const what = describePods(t);
  if (live.length === 0) {
    throw new ChaosError("agent", `no pod matches ${what}`, {
      hint: "check the namespace and selectors (kubectl get pods -n NAMESPACE -l SELECTOR); nothing was touched",
    });
  }
  if (live.length > 1 && !t.select && !t.names) {
    throw new ChaosError("agent", `${live.length} pods match ${what}: ${list(live)}`, {
      hint: "add select: { mode: one | all | count | percent } (with max to cap the blast radius)",
    });
  }
  if (!t.select) return { pods: live, matched: live.length };
  const { chosen, seed } = selectTargets(live, t.select);
  log?.info({ target: what, matched: live.length, chosen: chosen.length, seed }, "pods selected");
  return { pods: chosen, matched: live.length, seed };
}

import type { V1Pod, V1PodList } from "@kubernetes/client-node";
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

/** What a pod probe may match by: the pod matchers, or every pod of the namespace. */
export const podProbeProperties: Record<string, JsonSchema> = {
  ...podMatchProperties,
  all: {
    const: true,
    description: "every pod of the namespace (instead of labels, selector, fields or names)",
  },
};

/** The `target` of a pod probe: which pods to look at. */
export const podProbeSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["namespace"],
  properties: podProbeProperties,
  anyOf: [...matchOneOf, { required: ["all"], properties: { all: true } }],
};

/** `all: true` beside a matcher says two things at once: refused offline, at `all`. */
export function checkPodProbe(args: Record<string, unknown>): { path: string[]; message: string }[] {
  const beside = ["labels", "selector", "fields", "names"].filter((k) => args[k] !== undefined);
  if (args.all !== true || beside.length === 0) return [];
  return [
    {
      path: ["all"],
      message: `all: true means every pod of the namespace, but ${beside.join(" and ")} narrow it; keep one of the two`,
    },
  ];
}

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
  /** The kind of the pod's controller ("ReplicaSet", "StatefulSet", …); undefined for a pod nothing owns. */
  owner?: string;
  /**
   * The name may later name another pod: a StatefulSet's pods come back under the same name, and so may a
   * pod made by hand. Decided from the owner, not from `generateName`, which StatefulSet pods carry too.
   */
  nameRecurs: boolean;
  labels: Record<string, string>;
  /** The pod's phase; unknown (undefined) in a metadata-only list, which is filtered by phase server-side. */
  phase?: string;
  node?: string;
  ready: boolean;
  /** status.conditions as type and status, e.g. {type: "Ready", status: "True"}. */
  conditions: { type: string; status: string }[];
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
  if (parts.length === 0) return `every pod in namespace ${t.namespace}`;
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

/** Controllers whose pods get fresh generated names: a deleted pod's name never comes back. */
const FRESH_NAMES = new Set(["ReplicaSet", "Job", "DaemonSet", "ReplicationController"]);

export function podInfo(p: V1Pod): PodInfo {
  const statuses = p.status?.containerStatuses ?? [];
  const owner = p.metadata?.ownerReferences?.find((o) => o.controller)?.kind;
  return {
    namespace: p.metadata?.namespace ?? "",
    name: p.metadata?.name ?? "",
    uid: p.metadata?.uid ?? "",
    owner,
    labels: p.metadata?.labels ?? {},
    nameRecurs: !(owner && FRESH_NAMES.has(owner) && p.metadata?.generateName),
    phase: p.status?.phase,
    node: p.spec?.nodeName,
    ready: (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
    conditions: (p.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status })),
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
  opts: { metadataOnly?: boolean; running?: boolean } = {},
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
    for (const p of pods) if (p && (!opts.running || p.status?.phase === "Running")) found.push(podInfo(p));
    // Exact names combined with selectors: list the selection and keep the named pods found in both.
    if (selector || t.fields) {
      const matching = new Set(
        (await listPods(cluster, { ...t, names: undefined }, signal)).map((p) => p.uid),
      );
      return found.filter((p) => matching.has(p.uid)).sort(byName);
    }
    return found.sort(byName);
  }
  // Victims are Running pods: a Failed or Evicted pod has nothing left to hurt, and a metadata-only list has
  // no phase to filter on here, so the server filters.
  const fieldSelector = [t.fields, opts.running ? "status.phase=Running" : undefined]
    .filter(Boolean)
    .join(",");
  let cont: string | undefined;
  let restarts = 0;
  for (;;) {
    let page: V1PodList;
    try {
      page = await cluster.call(
        { verb: "list", resource: "pods", namespace: t.namespace },
        signal,
        (o) =>
          cluster.core.listNamespacedPod(
            {
              namespace: t.namespace,
              labelSelector: labelSelector(t),
              fieldSelector: fieldSelector || undefined,
              limit: PAGE,
              _continue: cont,
            },
            o,
          ),
        opts.metadataOnly ? METADATA_ONLY : undefined,
      );
    } catch (err) {
      // A continue token expires once etcd compacts its revision (a list paged slower than ~5 min): start the
      // list again from the top, a bounded number of times, as client-go's pager does.
      if (!(err instanceof KubeApiError && err.status === 410 && cont && restarts < 3)) throw err;
      restarts++;
      found.length = 0;
      cont = undefined;
      continue;
    }
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
    if (!cont) break;
  }
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
  const live = (await listPods(cluster, t, signal, { metadataOnly: true, running: true })).filter(
    (p) => !p.terminating,
  );
  const what = describePods(t);
  if (live.length === 0) {
    throw new ChaosError("agent", `no Running pod matches ${what}`, {
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

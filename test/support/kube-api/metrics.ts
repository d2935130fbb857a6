import { parseLabelSelector, SelectorError } from "./selectors.js";
import type { Json, KubeObject, Store } from "./store.js";

/**
 * The resource metrics API as metrics-server serves it through the API server's aggregation layer:
 *
 *   /apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods[/{name}]   get, list (labelSelector): PodMetrics
 *
 * Usage is what the test sets with `set` (written as metrics-server writes it: CPU in nanocores "12345678n",
 * memory in kibibytes "65536Ki"); a pod with none yet is `podmetrics.metrics.k8s.io "ns/name" not found`,
 * as for a pod metrics-server has not scraped. A cluster without metrics-server does not serve the group.
 */

export interface ContainerUsage {
  cpu: string;
  memory: string;
}

export interface PodMetricsEntry {
  containers: Record<string, ContainerUsage>;
  /** When the usage was measured (default: when it was set). */
  timestamp?: Date;
  /** The interval the CPU rate was measured over (default "15s", metrics-server's resolution). */
  window?: string;
}

export class MetricsError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: { name: string; group: string; kind: string },
  ) {
    super(message);
  }
}

export class PodMetricsSource {
  /** false: a cluster without metrics-server (the group is not served at all). */
  served = true;
  private readonly usage = new Map<string, PodMetricsEntry & { at: Date }>();

  constructor(private readonly store: Store) {}

  /** Sets (or, with undefined, removes) the usage a pod reports. */
  set(namespace: string, name: string, entry: PodMetricsEntry | undefined): void {
    if (entry) this.usage.set(`${namespace}/${name}`, { ...entry, at: new Date() });
    else this.usage.delete(`${namespace}/${name}`);
  }

  private object(pod: KubeObject): Json | undefined {
    const e = this.usage.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    if (!e) return undefined;
    return {
      kind: "PodMetrics",
      apiVersion: "metrics.k8s.io/v1beta1",
      metadata: {
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        creationTimestamp: new Date().toISOString(),
        labels: pod.metadata.labels ?? {},
      },
      timestamp: (e.timestamp ?? e.at).toISOString().replace(/\.\d+Z$/, "Z"),
      window: e.window ?? "15s",
      containers: Object.entries(e.containers).map(([name, usage]) => ({ name, usage })),
    };
  }

  /** The answer to a GET of the API, or a MetricsError. */
  answer(verb: string, namespace: string | undefined, name: string | undefined, q: URLSearchParams): Json {
    if (verb !== "get" && verb !== "list")
      throw new MetricsError(405, `the server does not allow this method on the requested resource`);
    if (name) {
      const pod = namespace ? this.store.get("pods", namespace, name) : undefined;
      const found = pod && this.object(pod);
      if (!found)
        throw new MetricsError(404, `podmetrics.metrics.k8s.io "${namespace}/${name}" not found`, {
          name: `${namespace}/${name}`,
          group: "metrics.k8s.io",
          kind: "podmetrics",
        });
      return found;
    }
    let matches: ReturnType<typeof parseLabelSelector>;
    try {
      matches = parseLabelSelector(q.get("labelSelector") ?? undefined);
    } catch (err) {
      if (err instanceof SelectorError) throw new MetricsError(400, err.message);
      throw err;
    }
    const items = this.store
      .list("pods", namespace)
      .filter((p) => matches(p.metadata.labels ?? {}))
      .map((p) => this.object(p))
      .filter((o) => o !== undefined);
    return { kind: "PodMetricsList", apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items };
  }
}

import { randomBytes } from "node:crypto";
import type { KubeObject, Store } from "./store.js";

/**
 * What the controllers of a cluster do, in miniature: a Deployment's or StatefulSet's pods are kept at its
 * replicas (a deleted pod is replaced after `recreateMs`, a new pod turns Ready after `readyMs`, extra
 * pods are deleted), and the workload's status counts them. Graceful deletion keeps a pod Terminating for
 * its grace period, as a kubelet does.
 */

export interface ReconcilerTiming {
  recreateMs: number;
  readyMs: number;
}

const now = () => new Date().toISOString();

let ipCounter = 1;

/** A pod as the API returns it: spec, Running status, Ready condition and one container. */
export function podObject(opts: {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  node?: string;
  ready: boolean;
  owner?: { kind: string; name: string; uid: string };
  restarts?: number;
  /** The prefix a controller generated the name from (every controller's pods carry one, StatefulSets' too). */
  generateName?: string;
  /** Running unless said otherwise; a Failed pod may carry a reason such as "Evicted". */
  phase?: "Pending" | "Running" | "Succeeded" | "Failed";
  reason?: string;
}): KubeObject {
  const n = ipCounter++;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      ...(opts.generateName ? { generateName: opts.generateName } : {}),
      labels: { ...opts.labels },
      ...(opts.owner
        ? {
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: opts.owner.kind,
                name: opts.owner.name,
                uid: opts.owner.uid,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      nodeName: opts.node ?? "node-1",
      restartPolicy: "Always",
      schedulerName: "default-scheduler",
      serviceAccountName: "default",
      terminationGracePeriodSeconds: 30,
      containers: [{ name: "app", image: "registry.example/app:1.0" }],
    },
    status: {
      phase: opts.phase ?? "Running",
      ...(opts.reason ? { reason: opts.reason } : {}),
      podIP: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      conditions: [{ type: "Ready", status: opts.ready ? "True" : "False", lastTransitionTime: now() }],
      containerStatuses: [
        {
          name: "app",
          ready: opts.ready,
          restartCount: opts.restarts ?? 0,
          image: "registry.example/app:1.0",
          imageID: "",
          started: true,
          state: { running: { startedAt: now() } },
        },
      ],
    },
  };
}

function setReady(pod: KubeObject, ready: boolean): void {
  pod.status.conditions = [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now() }];
  for (const c of pod.status.containerStatuses) c.ready = ready;
}

const RESOURCE: Record<string, string> = { Deployment: "deployments", StatefulSet: "statefulsets" };

export class Reconciler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Map<string, number>();
  private readonly interval: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    readonly timing: ReconcilerTiming,
  ) {
    this.interval = setInterval(() => this.reconcile(), 25);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Creates a Deployment (or StatefulSet) and its pods, all Ready at once. */
  addWorkload(
    kind: "Deployment" | "StatefulSet",
    namespace: string,
    name: string,
    replicas: number,
    labels: Record<string, string>,
  ) {
    const obj = this.store.put(RESOURCE[kind]!, {
      apiVersion: "apps/v1",
      kind,
      metadata: { name, namespace, labels: { ...labels }, generation: 1 },
      spec: {
        replicas,
        selector: { matchLabels: { ...labels } },
        template: { metadata: { labels: { ...labels } } },
      },
      status: {},
    });
    for (let i = 0; i < replicas; i++) this.createPod(obj, true);
    this.updateStatus(obj);
    return obj;
  }

  /** Deletes a pod now, or marks it Terminating and deletes it after `graceSeconds`. */
  deletePod(pod: KubeObject, graceSeconds: number): KubeObject {
    if (graceSeconds === 0) return this.store.remove("pods", pod.metadata.namespace, pod.metadata.name)!;
    if (!pod.metadata.deletionTimestamp) {
      pod.metadata.deletionTimestamp = new Date(Date.now() + graceSeconds * 1000).toISOString();
      pod.metadata.deletionGracePeriodSeconds = graceSeconds;
      setReady(pod, false);
      this.store.put("pods", pod);
      this.later(graceSeconds * 1000, () => {
        const current = this.store.get("pods", pod.metadata.namespace, pod.metadata.name);
        if (current?.metadata.uid === pod.metadata.uid)
          this.store.remove("pods", pod.metadata.namespace, pod.metadata.name);
      });
    }
    return pod;
  }

  private owned(w: KubeObject): KubeObject[] {
    return this.store
      .list("pods", w.metadata.namespace)
      .filter((p) => p.metadata.ownerReferences?.some((o: { uid: string }) => o.uid === w.metadata.uid));
  }

  private createPod(w: KubeObject, ready: boolean): void {
    const ns = w.metadata.namespace!;
    let name: string;
    if (w.kind === "StatefulSet") {
      const taken = new Set(this.owned(w).map((p) => p.metadata.name));
      let i = 0;
      while (taken.has(`${w.metadata.name}-${i}`)) i++;
      name = `${w.metadata.name}-${i}`;
    } else name = `${w.metadata.name}-7d9c5b-${randomBytes(3).toString("hex").slice(0, 5)}`;
    const pod = podObject({
      namespace: ns,
      name,
      labels: w.spec.template.metadata.labels,
      ready,
      // A StatefulSet's pods carry generateName too (the controller builds them from the template), though
      // their names come back: only the owner tells a name that recurs from one that never does.
      generateName: w.kind === "StatefulSet" ? `${w.metadata.name}-` : `${w.metadata.name}-7d9c5b-`,
      owner: {
        kind: w.kind === "StatefulSet" ? "StatefulSet" : "ReplicaSet",
        name: w.metadata.name,
        uid: w.metadata.uid!,
      },
    });
    // A ReplicaSet owns a Deployment's pods; the test keeps the Deployment's uid on it to find them.
    this.store.put("pods", pod);
    if (!ready) {
      this.later(this.timing.readyMs, () => {
        const current = this.store.get("pods", ns, name);
        if (current && current.metadata.uid === pod.metadata.uid && !current.metadata.deletionTimestamp) {
          setReady(current, true);
          this.store.put("pods", current);
        }
      });
    }
  }

  private updateStatus(w: KubeObject): void {
    const pods = this.owned(w).filter((p) => !p.metadata.deletionTimestamp);
    const ready = pods.filter((p) =>
      p.status.conditions.some(
        (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
      ),
    ).length;
    const status = {
      observedGeneration: w.metadata.generation,
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      updatedReplicas: pods.length,
      ...(w.kind === "StatefulSet" ? { currentReplicas: pods.length } : {}),
    };
    if (JSON.stringify(status) !== JSON.stringify(w.status)) {
      w.status = status;
      this.store.put(RESOURCE[w.kind]!, w);
    }
  }

  private reconcile(): void {
    for (const w of [...this.store.list("deployments"), ...this.store.list("statefulsets")]) {
      const key = `${w.kind}/${w.metadata.namespace}/${w.metadata.name}`;
      const live = this.owned(w).filter((p) => !p.metadata.deletionTimestamp);
      const pending = this.pending.get(key) ?? 0;
      const missing = w.spec.replicas - live.length - pending;
      if (missing > 0) {
        this.pending.set(key, pending + missing);
        this.later(this.timing.recreateMs, () => {
          this.pending.set(key, (this.pending.get(key) ?? missing) - missing);
          const current = this.store.get(RESOURCE[w.kind]!, w.metadata.namespace, w.metadata.name);
          if (!current) return;
          const still =
            current.spec.replicas - this.owned(current).filter((p) => !p.metadata.deletionTimestamp).length;
          for (let i = 0; i < Math.min(missing, still); i++) this.createPod(current, false);
        });
      } else if (live.length > w.spec.replicas && pending === 0) {
        for (const p of live.slice(w.spec.replicas)) this.deletePod(p, 0);
      }
      this.updateStatus(w);
    }
  }

  close(): void {
    clearInterval(this.interval);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

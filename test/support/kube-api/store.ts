import { randomUUID } from "node:crypto";

/**
 * The objects of the test API server, with the bookkeeping a real one does: a cluster-wide resourceVersion
 * bumped on every write, uids, creation timestamps, lists in key order (namespace/name, as etcd returns
 * them) and a bounded history of events for watches that resume from a resourceVersion.
 */

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are free-form JSON here, as on the wire.
export type Json = any;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Json[];
    generation?: number;
  };
  spec?: Json;
  status?: Json;
}

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  rv: number;
  type: EventType;
  resource: string;
  object: KubeObject;
}

const HISTORY = 5000;

export class Store {
  private rv = 1000;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly sorted = new Map<string, string[]>();
  private readonly history: WatchEvent[] = [];
  private readonly listeners = new Set<(e: WatchEvent) => void>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** The oldest resourceVersion a watch may still resume from. */
  get oldestResumable(): number {
    return this.history[0]?.rv ?? this.rv;
  }

  private table(resource: string): Map<string, KubeObject> {
    let t = this.objects.get(resource);
    if (!t) {
      t = new Map();
      this.objects.set(resource, t);
    }
    return t;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.table(resource).get(`${namespace ?? ""}/${name}`);
  }

  /** Objects of a resource in key order, in one namespace or all. */
  list(resource: string, namespace?: string): KubeObject[] {
    const t = this.table(resource);
    let keys = this.sorted.get(resource);
    if (!keys) {
      keys = [...t.keys()].sort();
      this.sorted.set(resource, keys);
    }
    const prefix = namespace === undefined ? "" : `${namespace}/`;
    return keys.filter((k) => k.startsWith(prefix)).map((k) => t.get(k)!);
  }

  /** Creates or replaces an object, filling uid, timestamps and a new resourceVersion; emits the event. */
  put(resource: string, obj: KubeObject): KubeObject {
    const key = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
    const t = this.table(resource);
    const existing = t.get(key);
    if (!existing) this.sorted.delete(resource);
    obj.metadata.uid ??= existing?.metadata.uid ?? randomUUID();
    obj.metadata.creationTimestamp ??= existing?.metadata.creationTimestamp ?? new Date().toISOString();
    obj.metadata.resourceVersion = String(++this.rv);
    t.set(key, obj);
    this.emit({ rv: this.rv, type: existing ? "MODIFIED" : "ADDED", resource, object: obj });
    return obj;
  }

  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = `${namespace ?? ""}/${name}`;
    const t = this.table(resource);
    const obj = t.get(key);
    if (!obj) return undefined;
    t.delete(key);
    this.sorted.delete(resource);
    obj.metadata.resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, type: "DELETED", resource, object: obj });
    return obj;
  }

  /** Events after `rv` still in the history, then every new one, until the returned function is called. */
  watch(since: number, listener: (e: WatchEvent) => void): () => void {
    for (const e of this.history) if (e.rv > since) listener(e);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: WatchEvent): void {
    this.history.push({ ...e, object: structuredClone(e.object) });
    if (this.history.length > HISTORY) this.history.shift();
    for (const l of this.listeners) l(e);
  }
}

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import {
  acceptExec,
  type ExecHandler,
  type ExecRequest,
  execSocketServer,
  execTarget,
  refuseUpgrade,
  SubresourceError,
  updateEphemeralContainers,
} from "./ephemeral.js";
import { LogError, PodLogs } from "./logs.js";
import { MetricsError, PodMetricsSource } from "./metrics.js";
import { jsonPatch, mergePatch } from "./patch.js";
import {
  EVENT_FIELDS,
  matchesLabels,
  POD_FIELDS,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from "./selectors.js";
import { REASONS, statusObject } from "./status.js";
import { type Json, type KubeObject, Store } from "./store.js";
import { podObject, Reconciler, type ReconcilerTiming } from "./workloads.js";

/**
 * An HTTP server on 127.0.0.1 that answers like a Kubernetes API server for what the kubernetes agent uses:
 *
 *   /api/v1/namespaces/{ns}/pods[/{name}]                        list (selectors, limit/continue), watch, get, delete
 *   /api/v1/namespaces/{ns}/pods/{name}/eviction                 create (honours PodDisruptionBudgets: 429)
 *   /api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers      get, patch, update (see ephemeral.ts)
 *   /api/v1/namespaces/{ns}/pods/{name}/exec                     WebSocket exec (see ephemeral.ts)
 *   /api/v1/namespaces/{ns}/pods/{name}/log                      get, text/plain (see logs.ts)
 *   /api/v1/[namespaces/{ns}/]events                             list (involvedObject.* field selectors), create
 *   /api/v1/nodes[/{name}]                                       list, get, patch
 *   /apis/apps/v1/namespaces/{ns}/{deployments|statefulsets}/{name}[/scale]   get; scale get, patch, put
 *   /apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies[/{name}]       list, get, create, delete
 *   /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers             list, get, create
 *   /apis/policy/v1/namespaces/{ns}/poddisruptionbudgets                      list, get, create
 *   /apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods[/{name}]                get, list (see metrics.ts)
 *
 * Errors are `Status` objects with the real reasons and messages; a bearer token is required. Where a real
 * server's behaviour has caught clients out, this one behaves the same: DeleteOptions come from the body when
 * there is one (the query is then ignored, as in apiserver's handlers/delete.go), continue tokens expire
 * (410 once `compact()` has run), every controller's pods carry `generateName`, pods come in every phase.
 * Tests make it misbehave on demand (`inject`: any status, Retry-After, or a request that is accepted and
 * never answered) and read every call it received (`calls`), as an audit log.
 */

export interface Call {
  method: string;
  path: string;
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
  /** The Accept header: a client may ask for metadata only (PartialObjectMetadataList). */
  accept?: string;
}

export interface FaultRule {
  method?: string;
  /** Matched against the path (without the query). */
  path?: RegExp;
  status?: number;
  retryAfter?: number;
  /** Accept the request and never answer. */
  hang?: boolean;
  /** How many requests the rule hits; default: all. */
  times?: number;
}

interface Route {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

const KINDS: Record<string, { group: string; kind: string; namespaced: boolean }> = {
  pods: { group: "", kind: "Pod", namespaced: true },
  nodes: { group: "", kind: "Node", namespaced: false },
  deployments: { group: "apps", kind: "Deployment", namespaced: true },
  statefulsets: { group: "apps", kind: "StatefulSet", namespaced: true },
  networkpolicies: { group: "networking.k8s.io", kind: "NetworkPolicy", namespaced: true },
  horizontalpodautoscalers: { group: "autoscaling", kind: "HorizontalPodAutoscaler", namespaced: true },
  poddisruptionbudgets: { group: "policy", kind: "PodDisruptionBudget", namespaced: true },
  events: { group: "", kind: "Event", namespaced: true },
};

class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: {
      name?: string;
      group?: string;
      kind?: string;
      causes?: { reason: string; message: string }[];
    },
  ) {
    super(message);
  }
}

const qualified = (r: Route) =>
  KINDS[r.resource]?.group ? `${r.resource}.${KINDS[r.resource]!.group}` : r.resource;
const notFound = (r: Route, name: string) =>
  new ApiError(404, `${qualified(r)} "${name}" not found`, {
    name,
    group: KINDS[r.resource]?.group,
    kind: r.resource,
  });

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A core/v1 Event as the apiserver's legacyValidateEvent checks one without eventTime: its namespace agrees
 * with the involved object's ("default" or none for a cluster-scoped object such as a Node), and its name is
 * a DNS subdomain.
 */
function validateEvent(e: Json, namespace: string): void {
  const problems: string[] = [];
  const involved = e.involvedObject?.namespace ?? "";
  const agrees = involved ? namespace === involved : namespace === "" || namespace === "default";
  if (!agrees)
    problems.push(`involvedObject.namespace: Invalid value: "${involved}": does not match event.namespace`);
  const name = String(e.metadata.name);
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name))
    problems.push(
      `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
    );
  if (problems.length)
    throw new ApiError(422, `Event "${name}" is invalid: ${problems.join(", ")}`, {
      name,
      kind: "Event",
      causes: problems.map((m) => ({ reason: "FieldValueInvalid", message: m })),
    });
}

function parseRoute(path: string): Route | undefined {
  const parts = path.split("/").filter(Boolean);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts[1] === "v1") [group, version, rest] = ["", "v1", parts.slice(2)];
  else if (parts[0] === "apis" && parts.length >= 3)
    [group, version, rest] = [parts[1]!, parts[2]!, parts.slice(3)];
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (!resource || rest.length > 3) return undefined;
  return { group, version, namespace, resource, name, subresource };
}

function verbOf(method: string, r: Route, watch: boolean): string {
  if (method === "GET") return r.name ? "get" : watch ? "watch" : "list";
  return (
    { POST: "create", PUT: "update", PATCH: "patch", DELETE: r.name ? "delete" : "deletecollection" }[
      method
    ] ?? method
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

function parseJson(text: string): Json {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch (err) {
    throw new ApiError(400, `the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

export interface KubeApiServerOptions extends Partial<ReconcilerTiming> {
  token?: string;
  /** false: a server that does not serve the ephemeralcontainers subresource (before Kubernetes 1.23). */
  ephemeralContainers?: boolean;
}

export class KubeApiServer {
  readonly store = new Store();
  readonly reconciler: Reconciler;
  readonly calls: Call[] = [];
  /** TCP connections accepted: shows whether a client keeps its connections alive. */
  connections = 0;
  readonly token: string;
  private readonly rules: FaultRule[] = [];
  private server?: Server;
  /** Called after each list page is built, before it is sent: lets a test act between pages. */
  onList?: () => void;
  /** Continue tokens from before this resourceVersion have expired (etcd compacted their revision). */
  private compactedRv = 0;
  url = "";
  private readonly ephemeral: boolean;
  /** Namespaces labelled `pod-security.kubernetes.io/enforce`: the Pod Security level admission enforces. */
  readonly podSecurity = new Map<string, "baseline" | "restricted">();
  /** Every exec the server accepted, in order. */
  readonly execs: ExecRequest[] = [];
  /** What a container does with an exec (default: succeeds, does nothing). */
  onExec: ExecHandler = () => ({ exitCode: 0 });
  private readonly wss = execSocketServer();
  /** The resource metrics API (metrics-server): `metrics.set(ns, pod, usage)`, `metrics.served = false`. */
  readonly metrics = new PodMetricsSource(this.store);
  /** What pods/log serves: `logs.write(ns, pod, container, text)`, `logs.restart(ns, pod, container)`. */
  readonly logs = new PodLogs();

  constructor(opts: KubeApiServerOptions = {}) {
    this.token = opts.token ?? randomBytes(16).toString("hex");
    this.reconciler = new Reconciler(this.store, {
      recreateMs: opts.recreateMs ?? 300,
      readyMs: opts.readyMs ?? 300,
    });
    this.ephemeral = opts.ephemeralContainers ?? true;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => this.fail(res, err));
    });
    this.server.on("connection", () => {
      this.connections++;
    });
    this.server.on("upgrade", (req, socket, head) => this.upgrade(req, socket, head));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.reconciler.close();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.server?.closeAllConnections();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  /** Makes matching requests fail (or hang) until the rule's `times` is used up. */
  inject(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  clearFaults(): void {
    this.rules.length = 0;
  }

  /**
   * Compacts history up to now, as etcd does every ~5 min on a cluster: continue tokens of an older
   * resourceVersion expire; one of the current resourceVersion still works.
   */
  compact(): void {
    this.compactedRv = Number(this.store.resourceVersion);
  }

  // ── fixtures ──

  addDeployment(
    namespace: string,
    name: string,
    replicas: number,
    labels: Record<string, string> = { app: name },
  ) {
    return this.reconciler.addWorkload("Deployment", namespace, name, replicas, labels);
  }

  addStatefulSet(
    namespace: string,
    name: string,
    replicas: number,
    labels: Record<string, string> = { app: name },
  ) {
    return this.reconciler.addWorkload("StatefulSet", namespace, name, replicas, labels);
  }

  /**
   * Pods nothing replaces, named `<prefix>-<i>`; with `generated`, named as a ReplicaSet names its pods
   * (`generateName` set), else as pods made by hand.
   */
  addPods(
    namespace: string,
    prefix: string,
    count: number,
    labels: Record<string, string>,
    extra: {
      node?: string;
      generated?: boolean;
      phase?: "Pending" | "Running" | "Succeeded" | "Failed";
      reason?: string;
      /** A controller that owns the pods (its uid is made up): a ReplicaSet's pods are replaced when deleted. */
      owner?: { kind: string; name: string };
    } = {},
  ) {
    const generateName = extra.generated ? `${prefix}-` : undefined;
    const owner = extra.owner && { ...extra.owner, uid: `${extra.owner.kind}-${extra.owner.name}-uid` };
    for (let i = 0; i < count; i++) {
      this.store.put(
        "pods",
        podObject({
          namespace,
          name: `${prefix}-${i}`,
          labels,
          ready: (extra.phase ?? "Running") === "Running",
          node: extra.node,
          generateName,
          phase: extra.phase,
          reason: extra.reason,
          owner,
        }),
      );
    }
  }

  /** A HorizontalPodAutoscaler (autoscaling/v2) scaling the named workload. */
  addAutoscaler(namespace: string, name: string, target: { kind: string; name: string }, min = 1, max = 10) {
    return this.store.put("horizontalpodautoscalers", {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name, namespace },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", ...target },
        minReplicas: min,
        maxReplicas: max,
      },
    });
  }

  /** A PodDisruptionBudget over the pods with these labels: `minAvailable` or `maxUnavailable` (number or "N%"). */
  addDisruptionBudget(
    namespace: string,
    name: string,
    labels: Record<string, string>,
    budget: { minAvailable?: number | string; maxUnavailable?: number | string },
  ) {
    return this.store.put("poddisruptionbudgets", {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name, namespace },
      spec: { selector: { matchLabels: { ...labels } }, ...budget },
    });
  }

  /** Any other object (a NetworkPolicy made by someone else, say), stored as given. */
  addObject(resource: string, obj: KubeObject): KubeObject {
    return this.store.put(resource, obj);
  }

  addNode(name: string, labels: Record<string, string> = {}): void {
    this.store.put("nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
      spec: {},
      status: { conditions: [{ type: "Ready", status: "True" }] },
    });
  }

  pods(namespace: string): KubeObject[] {
    return this.store.list("pods", namespace);
  }

  object(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(resource, namespace, name);
  }

  // ── HTTP ──

  private fail(res: ServerResponse, err: unknown): void {
    const e = err instanceof ApiError ? err : new ApiError(500, `internal error: ${(err as Error).message}`);
    this.send(res, e.code, statusObject(e.code, REASONS[e.code] ?? "Unknown", e.message, e.details));
  }

  private send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) return void res.end();
    res.writeHead(code, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }

  private faultFor(method: string, path: string): FaultRule | undefined {
    const rule = this.rules.find(
      (r) => (r.times ?? 1) > 0 && (!r.method || r.method === method) && (!r.path || r.path.test(path)),
    );
    if (rule && rule.times !== undefined) rule.times--;
    return rule;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const q = url.searchParams;
    const watch = q.get("watch") === "true" || q.get("watch") === "1";
    if (req.headers.authorization !== `Bearer ${this.token}`) throw new ApiError(401, "Unauthorized");
    if (url.pathname === "/version")
      return this.send(res, 200, { major: "1", minor: "31", gitVersion: "v1.31.0" });
    const route = parseRoute(url.pathname);
    const info = route && KINDS[route.resource];
    const metrics =
      this.metrics.served &&
      route?.group === "metrics.k8s.io" &&
      route.version === "v1beta1" &&
      route.resource === "pods" &&
      !route.subresource;
    if (!route || (!metrics && (!info || info.group !== route.group))) {
      throw new ApiError(404, "the server could not find the requested resource");
    }
    if (info && !metrics && info.namespaced !== (route.namespace !== undefined) && route.name !== undefined) {
      throw new ApiError(404, "the server could not find the requested resource");
    }
    const verb = verbOf(method, route, watch);
    const resource = route.subresource ? `${route.resource}/${route.subresource}` : route.resource;
    this.calls.push({
      method,
      path: url.pathname,
      verb,
      group: route.group,
      resource,
      namespace: route.namespace,
      name: route.name,
      accept: req.headers.accept,
    });

    const fault = this.faultFor(method, url.pathname);
    if (fault?.hang) return; // accepted, never answered
    if (fault?.status) {
      const code = fault.status;
      const where = route.namespace ? ` in the namespace "${route.namespace}"` : " at the cluster scope";
      const message =
        code === 403
          ? `${qualified(route)}${route.name ? ` "${route.name}"` : ""} is forbidden: User "system:serviceaccount:chaos:chaoskit" cannot ${verb} resource "${resource}" in API group "${route.group}"${where}`
          : code === 429
            ? "Too many requests, please try again later."
            : code === 409
              ? `Operation cannot be fulfilled on ${qualified(route)} "${route.name ?? ""}": the object has been modified; please apply your changes to the latest version and try again`
              : `injected failure ${code}`;
      const headers: Record<string, string> =
        fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {};
      return this.send(res, code, statusObject(code, REASONS[code] ?? "Unknown", message), headers);
    }
    if (metrics) {
      try {
        return this.send(res, 200, this.metrics.answer(verb, route.namespace, route.name, q));
      } catch (err) {
        if (err instanceof MetricsError) throw new ApiError(err.code, err.message, err.details);
        throw err;
      }
    }
    const body = method === "GET" || method === "DELETE" ? undefined : await readBody(req);
    const deleteBody = method === "DELETE" ? parseJson(await readBody(req)) : undefined;

    if (route.resource === "pods" && verb === "watch") return this.watchPods(req, res, route, q);
    if (!route.name) {
      if (verb === "list") {
        const list = this.list(route, q);
        this.onList?.();
        // Metadata only, when the client asks for it by content negotiation (as kubectl get does).
        if (/as=PartialObjectMetadataList/.test(req.headers.accept ?? "")) {
          const type = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
          return this.send(
            res,
            200,
            {
              kind: "PartialObjectMetadataList",
              apiVersion: "meta.k8s.io/v1",
              metadata: list.metadata,
              items: list.items.map((o) => ({
                kind: "PartialObjectMetadata",
                apiVersion: "meta.k8s.io/v1",
                metadata: o.metadata,
              })),
            },
            { "content-type": type },
          );
        }
        return this.send(res, 200, list);
      }
      if (verb === "create") return this.send(res, 201, this.create(route, parseJson(body ?? "")));
      throw new ApiError(405, `${verb} is not supported on ${route.resource} by this server`);
    }
    const obj = this.store.get(route.resource, route.namespace, route.name);
    if (!obj) throw notFound(route, route.name);
    if (route.subresource === "scale") return this.send(res, 200, this.scale(route, obj, method, req, body));
    if (route.resource === "pods" && route.subresource === "eviction" && verb === "create") {
      return this.send(res, 201, this.evict(route, obj, parseJson(body ?? "")));
    }
    if (route.resource === "pods" && route.subresource === "ephemeralcontainers" && this.ephemeral) {
      if (verb === "get") return this.send(res, 200, obj);
      if (verb !== "patch" && verb !== "update")
        throw new ApiError(405, `${verb} is not supported on pods/ephemeralcontainers`);
      let next: KubeObject;
      try {
        next = updateEphemeralContainers(obj, method, req.headers["content-type"], parseJson(body ?? ""));
      } catch (err) {
        if (err instanceof SubresourceError) throw new ApiError(err.code, err.message);
        throw err;
      }
      this.admit(next, obj);
      return this.send(res, 200, this.store.put("pods", next));
    }
    if (route.resource === "pods" && route.subresource === "log") {
      if (verb !== "get") throw new ApiError(405, `${verb} is not supported on pods/log`);
      let text: string;
      try {
        text = this.logs.answer(obj, q);
      } catch (err) {
        if (err instanceof LogError) throw new ApiError(err.code, err.message);
        throw err;
      }
      res.writeHead(200, { "content-type": "text/plain" });
      return void res.end(text);
    }
    if (route.subresource) throw new ApiError(404, "the server could not find the requested resource");
    if (verb === "get") return this.send(res, 200, obj);
    if (verb === "delete") return this.send(res, 200, this.remove(route, obj, q, deleteBody));
    if (verb === "patch") {
      const patched = this.patch(obj, req.headers["content-type"], body ?? "");
      return this.send(res, 200, this.store.put(route.resource, patched));
    }
    throw new ApiError(405, `${verb} is not supported on ${route.resource} by this server`);
  }

  /**
   * Pod Security admission for ephemeral containers added to a pod in a namespace with an enforced level: the
   * checks of the "baseline" level that concern them (added capabilities beyond the default set), and of
   * "restricted" (runAsNonRoot, allowPrivilegeEscalation false, capabilities drop ALL, add at most
   * NET_BIND_SERVICE). 403 with the message a real admission plugin writes.
   */
  private admit(next: KubeObject, old: KubeObject): void {
    const level = this.podSecurity.get(next.metadata.namespace ?? "");
    if (!level) return;
    const known = new Set((old.spec.ephemeralContainers ?? []).map((c: Json) => c.name));
    const BASELINE = new Set([
      "AUDIT_WRITE",
      "CHOWN",
      "DAC_OVERRIDE",
      "FOWNER",
      "FSETID",
      "KILL",
      "MKNOD",
      "NET_BIND_SERVICE",
      "SETFCAP",
      "SETGID",
      "SETPCAP",
      "SETUID",
      "SYS_CHROOT",
    ]);
    const problems: string[] = [];
    for (const c of next.spec.ephemeralContainers ?? []) {
      if (known.has(c.name)) continue;
      const sc = c.securityContext ?? {};
      const added: string[] = sc.capabilities?.add ?? [];
      const allowed = level === "baseline" ? BASELINE : new Set(["NET_BIND_SERVICE"]);
      const bad = added.filter((a) => !allowed.has(a));
      if (bad.length)
        problems.push(
          `${level === "baseline" ? "non-default capabilities" : "unrestricted capabilities"} (container "${c.name}" must not include ${bad.map((b) => `"${b}"`).join(", ")} in securityContext.capabilities.add)`,
        );
      if (level === "restricted") {
        if (sc.allowPrivilegeEscalation !== false)
          problems.push(
            `allowPrivilegeEscalation != false (container "${c.name}" must set securityContext.allowPrivilegeEscalation=false)`,
          );
        if (sc.runAsNonRoot !== true || sc.runAsUser === 0)
          problems.push(
            `runAsNonRoot != true (container "${c.name}" must set securityContext.runAsNonRoot=true)`,
          );
      }
    }
    if (problems.length)
      throw new ApiError(
        403,
        `pods "${next.metadata.name}" is forbidden: violates PodSecurity "${level}:latest": ${problems.join(", ")}`,
      );
  }

  /** WebSocket upgrades: pods/exec only, authorised and validated before the socket is accepted. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) throw new ApiError(401, "Unauthorized");
      const route = parseRoute(url.pathname);
      if (route?.resource !== "pods" || route.subresource !== "exec" || !route.name || !route.namespace)
        throw new ApiError(404, "the server could not find the requested resource");
      // A WebSocket exec is a GET; authorizers check both get and create on pods/exec (Kubernetes 1.35 on).
      for (const verb of ["get", "create"]) {
        this.calls.push({
          method: "GET",
          path: url.pathname,
          verb,
          group: "",
          resource: "pods/exec",
          namespace: route.namespace,
          name: route.name,
        });
      }
      const fault = this.faultFor("GET", url.pathname);
      if (fault?.status) throw new ApiError(fault.status, `injected failure ${fault.status}`);
      const pod = this.store.get("pods", route.namespace, route.name);
      if (!pod) throw notFound(route, route.name);
      const q = url.searchParams;
      const command = q.getAll("command");
      if (command.length === 0) throw new ApiError(400, "you must specify at least 1 command");
      let container: string;
      try {
        container = execTarget(pod, q.get("container"));
      } catch (err) {
        if (err instanceof SubresourceError) throw new ApiError(err.code, err.message);
        throw err;
      }
      const exec = { namespace: route.namespace, pod: route.name, container, command };
      this.execs.push(exec);
      acceptExec(this.wss, req, socket, head, exec, (e) => this.onExec(e));
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, (err as Error).message);
      refuseUpgrade(socket, e.code, e.message);
    }
  }

  /** Marks a container (ephemeral or not) of a pod terminated with this exit code, as a kubelet reports it. */
  terminateContainer(namespace: string, pod: string, container: string, exitCode: number): void {
    const p = this.store.get("pods", namespace, pod);
    if (!p) throw new Error(`no pod ${namespace}/${pod}`);
    const status = [
      ...(p.status.containerStatuses ?? []),
      ...(p.status.ephemeralContainerStatuses ?? []),
    ].find((s: Json) => s.name === container);
    if (!status) throw new Error(`no container ${container} in pod ${namespace}/${pod}`);
    const now = new Date().toISOString();
    status.state = {
      terminated: {
        exitCode,
        reason: exitCode === 0 ? "Completed" : "Error",
        startedAt: status.state?.running?.startedAt,
        finishedAt: now,
      },
    };
    this.store.put("pods", p);
  }

  private list(route: Route, q: URLSearchParams) {
    let labels: (l: Record<string, string>) => boolean;
    let fields: (o: unknown) => boolean;
    try {
      labels = parseLabelSelector(q.get("labelSelector") ?? undefined);
      fields = parseFieldSelector(
        q.get("fieldSelector") ?? undefined,
        route.resource === "pods"
          ? POD_FIELDS
          : route.resource === "events"
            ? EVENT_FIELDS
            : { "metadata.name": (o) => o.metadata.name, "metadata.namespace": (o) => o.metadata.namespace },
      );
    } catch (err) {
      if (err instanceof SelectorError) throw new ApiError(400, err.message);
      throw err;
    }
    let items = this.store
      .list(route.resource, route.namespace)
      .filter((o) => labels(o.metadata.labels ?? {}) && fields(o));
    const cont = q.get("continue");
    if (cont) {
      let after: string;
      let rv: number;
      try {
        ({ start: after, rv } = JSON.parse(Buffer.from(cont, "base64").toString("utf8")));
      } catch {
        throw new ApiError(400, "continue key is not valid: illegal base64 data");
      }
      if (rv < this.compactedRv) {
        throw new ApiError(
          410,
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
        );
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}` > after);
    }
    const limit = Number(q.get("limit") ?? 0);
    const metadata: Json = { resourceVersion: this.store.resourceVersion };
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1]!;
      metadata.continue = Buffer.from(
        JSON.stringify({
          v: "meta.k8s.io/v1",
          rv: Number(this.store.resourceVersion),
          start: `${last.metadata.namespace ?? ""}/${last.metadata.name}`,
        }),
      ).toString("base64");
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    const kind = `${KINDS[route.resource]!.kind}List`;
    return { kind, apiVersion: route.group ? `${route.group}/${route.version}` : "v1", metadata, items };
  }

  private create(route: Route, obj: Json): KubeObject {
    // generateName as the apiserver's names.SimpleNameGenerator: a prefix cut to 58 and 5 random characters.
    if (obj?.metadata && !obj.metadata.name && obj.metadata.generateName) {
      const alphabet = "bcdfghjklmnpqrstvwxz2456789";
      const suffix = Array.from(randomBytes(5), (b) => alphabet[b % alphabet.length]).join("");
      obj.metadata.name = `${String(obj.metadata.generateName).slice(0, 58)}${suffix}`;
    }
    const name = obj?.metadata?.name;
    if (!name)
      throw new ApiError(
        422,
        `${KINDS[route.resource]!.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
      );
    if (obj.metadata.namespace && obj.metadata.namespace !== route.namespace) {
      throw new ApiError(
        400,
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    if (route.resource === "events") validateEvent(obj, route.namespace ?? "");
    if (this.store.get(route.resource, route.namespace, name)) {
      throw new ApiError(409, `${qualified(route)} "${name}" already exists`, {
        name,
        group: route.group,
        kind: route.resource,
      });
    }
    const { uid: _u, resourceVersion: _r, creationTimestamp: _c, ...meta } = obj.metadata;
    return this.store.put(route.resource, {
      ...obj,
      apiVersion: route.group ? `${route.group}/${route.version}` : "v1",
      kind: KINDS[route.resource]!.kind,
      metadata: { ...meta, namespace: route.namespace },
    });
  }

  /**
   * DeleteOptions as apiserver's handlers/delete.go reads them: from the body when the request has one, else
   * from the query — never a mix, so a `gracePeriodSeconds` in the query is ignored next to a body.
   */
  private remove(route: Route, obj: KubeObject, q: URLSearchParams, body: Json): KubeObject {
    const options: Json =
      body !== undefined
        ? body
        : {
            ...(q.has("gracePeriodSeconds")
              ? { gracePeriodSeconds: Number(q.get("gracePeriodSeconds")) }
              : {}),
          };
    const uid = options?.preconditions?.uid;
    if (uid && uid !== obj.metadata.uid) {
      throw new ApiError(
        409,
        `Operation cannot be fulfilled on ${qualified(route)} "${obj.metadata.name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${obj.metadata.uid}`,
      );
    }
    if (route.resource !== "pods")
      return this.store.remove(route.resource, route.namespace, obj.metadata.name)!;
    const raw = options?.gracePeriodSeconds ?? obj.spec.terminationGracePeriodSeconds ?? 30;
    return this.reconciler.deletePod(obj, Math.max(0, Number(raw)));
  }

  /**
   * The eviction subresource: deletes the pod unless a PodDisruptionBudget selecting it has no disruption
   * left (429, as the disruption controller's arithmetic gives it); a pod that is not Running is evicted
   * without a budget check, as on a real server. More than one budget over one pod is a 500 there too.
   */
  private evict(route: Route, pod: KubeObject, eviction: Json) {
    if (eviction?.kind !== "Eviction") {
      throw new ApiError(
        400,
        `the body must be an Eviction (policy/v1), not ${JSON.stringify(eviction?.kind)}`,
      );
    }
    const ns = route.namespace!;
    const budgets = this.store
      .list("poddisruptionbudgets", ns)
      .filter((b) => matchesLabels(b.spec.selector, pod.metadata.labels ?? {}));
    if (budgets.length > 1) {
      throw new ApiError(
        500,
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    }
    const [budget] = budgets;
    if (budget && pod.status.phase === "Running" && !pod.metadata.deletionTimestamp) {
      const covered = this.store
        .list("pods", ns)
        .filter((p) => matchesLabels(budget.spec.selector, p.metadata.labels ?? {}));
      const healthy = covered.filter(
        (p) =>
          !p.metadata.deletionTimestamp &&
          p.status.conditions?.some((c: Json) => c.type === "Ready" && c.status === "True"),
      ).length;
      const scaled = (v: number | string) =>
        typeof v === "string" ? Math.ceil((Number.parseInt(v, 10) / 100) * covered.length) : v;
      const desired =
        budget.spec.minAvailable !== undefined
          ? scaled(budget.spec.minAvailable)
          : covered.length - scaled(budget.spec.maxUnavailable ?? 0);
      if (healthy - desired < 1) {
        throw new ApiError(429, "Cannot evict pod as it would violate the pod's disruption budget.", {
          causes: [
            {
              reason: "DisruptionBudget",
              message: `The disruption budget ${budget.metadata.name} needs ${desired} healthy pods and has ${healthy} currently`,
            },
          ],
        });
      }
    }
    this.remove(
      { ...route, subresource: undefined },
      pod,
      new URLSearchParams(),
      eviction.deleteOptions ?? {},
    );
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
  }

  private patch(obj: KubeObject, contentType: string | undefined, text: string): KubeObject {
    const type = (contentType ?? "").split(";")[0]!.trim();
    const merge =
      type === "application/merge-patch+json" || type === "application/strategic-merge-patch+json";
    if (!merge && type !== "application/json-patch+json") {
      throw new ApiError(
        415,
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
      );
    }
    const patch = parseJson(text);
    let out: Json;
    try {
      // Strategic merge differs from a merge patch only for lists with patch strategies, which none of the
      // fields patched here (replicas, unschedulable, annotations) has.
      out = merge ? mergePatch(obj, patch) : jsonPatch(obj, patch);
    } catch (err) {
      throw new ApiError(422, (err as Error).message);
    }
    out.metadata = {
      ...out.metadata,
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
    };
    return out;
  }

  private scale(
    route: Route,
    obj: KubeObject,
    method: string,
    req: IncomingMessage,
    body: string | undefined,
  ) {
    const view = (o: KubeObject) => ({
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: {
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        uid: o.metadata.uid,
        resourceVersion: o.metadata.resourceVersion,
        creationTimestamp: o.metadata.creationTimestamp,
      },
      spec: { replicas: o.spec.replicas },
      status: {
        replicas: o.status?.replicas ?? 0,
        selector: Object.entries(o.spec.selector?.matchLabels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(","),
      },
    });
    if (method === "GET") return view(obj);
    let next: Json;
    if (method === "PUT") {
      next = parseJson(body ?? "");
      const rv = next?.metadata?.resourceVersion;
      if (rv && rv !== obj.metadata.resourceVersion) {
        throw new ApiError(
          409,
          `Operation cannot be fulfilled on ${qualified(route)} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
    } else if (method === "PATCH")
      next = this.patch(view(obj) as KubeObject, req.headers["content-type"], body ?? "");
    else throw new ApiError(405, `${method} is not supported on the scale subresource`);
    const replicas = next?.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(
        422,
        `Scale.autoscaling "${obj.metadata.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      );
    }
    obj.spec.replicas = replicas;
    obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
    return view(this.store.put(route.resource, obj));
  }

  /** A watch: one JSON event per line, from `resourceVersion` on (410 Gone when it is too old). */
  private watchPods(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    let labels: (l: Record<string, string>) => boolean;
    let fields: (o: unknown) => boolean;
    try {
      labels = parseLabelSelector(q.get("labelSelector") ?? undefined);
      fields = parseFieldSelector(q.get("fieldSelector") ?? undefined, POD_FIELDS);
    } catch (err) {
      throw new ApiError(400, (err as Error).message);
    }
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders(); // as an API server does: the client learns at once that the watch is open
    const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    const rvParam = q.get("resourceVersion");
    const matches = (o: KubeObject) =>
      (route.namespace === undefined || o.metadata.namespace === route.namespace) &&
      labels(o.metadata.labels ?? {}) &&
      fields(o);
    let since: number;
    if (!rvParam || rvParam === "0") {
      for (const o of this.store.list("pods", route.namespace)) if (matches(o)) write("ADDED", o);
      since = Number(this.store.resourceVersion);
    } else {
      since = Number(rvParam);
      if (since < this.store.oldestResumable - 1) {
        write(
          "ERROR",
          statusObject(410, "Expired", `too old resource version: ${since} (${this.store.oldestResumable})`),
        );
        return void res.end();
      }
    }
    const stop = this.store.watch(since, (e) => {
      if (e.resource === "pods" && matches(e.object)) write(e.type, e.object);
    });
    const timeout = Number(q.get("timeoutSeconds") ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    req.socket.once("close", () => {
      stop();
      if (timer) clearTimeout(timer);
    });
    res.once("finish", stop);
  }
}

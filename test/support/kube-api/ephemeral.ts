import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import type { Duplex } from "node:stream";
import { mergePatch } from "./patch.js";
import { REASONS, statusObject } from "./status.js";
import type { Json, KubeObject } from "./store.js";

/**
 * Two pod subresources, as an API server and a kubelet answer them:
 *
 *   /api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers   get, patch (strategic merge: the list merges by
 *       name), update (PUT of the whole Pod). Validated as apiserver's ValidatePodEphemeralContainersUpdate
 *       does: an ephemeral container once added can be neither changed nor removed, names are unique across
 *       containers, initContainers and ephemeralContainers, targetContainerName names a container, and the
 *       fields an ephemeral container may not have (ports, probes, lifecycle, resources, a volume mount's
 *       subPath) are refused, and its volumeMounts must name volumes of the pod. A new
 *       one is started at once: status.ephemeralContainerStatuses reports it running.
 *   /api/v1/namespaces/{ns}/pods/{name}/exec                  WebSocket (v5.channel.k8s.io / v4), as kubectl
 *       exec speaks it: the command is handed to `onExec` (what the container would do), and its exit code
 *       comes back on the status channel (3) as a Status, Success or NonZeroExitCode.
 */

/** The part of the `ws` package (a dependency of @kubernetes/client-node, without types here) used below. */
interface WebSocket {
  send(data: Buffer): void;
  close(code?: number): void;
  terminate(): void;
}
export interface WebSocketServer {
  clients: Set<WebSocket>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, done: (ws: WebSocket) => void): void;
  close(): void;
}
const { WebSocketServer } = createRequire(import.meta.url)("ws") as {
  WebSocketServer: new (opts: {
    noServer: boolean;
    handleProtocols(offered: Set<string>): string | false;
  }) => WebSocketServer;
};

export class SubresourceError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const FORBIDDEN_FIELDS = [
  "ports",
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "lifecycle",
  "resources",
];

const invalid = (pod: KubeObject, causes: string[]) =>
  new SubresourceError(422, `Pod "${pod.metadata.name}" is invalid: ${causes.join(", ")}`);

/** The strategic merge of a Pod patch where only `spec.ephemeralContainers` has a patch strategy (merge by name). */
function strategicMerge(pod: KubeObject, patch: Json): Json {
  const list: Json[] | undefined = patch?.spec?.ephemeralContainers;
  const { ephemeralContainers: _e, ...specRest } = patch?.spec ?? {};
  const out = mergePatch(pod, { ...patch, spec: specRest });
  if (list) {
    const merged: Json[] = [...(pod.spec.ephemeralContainers ?? [])];
    for (const c of list) {
      const i = merged.findIndex((m) => m.name === c?.name);
      if (i >= 0) merged[i] = mergePatch(merged[i], c);
      else merged.push(c);
    }
    out.spec.ephemeralContainers = merged;
  }
  return out;
}

/** The pod after a patch or update of its ephemeral containers; only that list changes (as on a real server). */
export function updateEphemeralContainers(
  pod: KubeObject,
  method: string,
  contentType: string | undefined,
  body: Json,
): KubeObject {
  let wanted: Json[];
  if (method === "PUT") {
    if (body?.kind !== "Pod")
      throw new SubresourceError(400, `the body must be a Pod, not ${JSON.stringify(body?.kind)}`);
    if (body.metadata?.name !== pod.metadata.name)
      throw new SubresourceError(400, "the name of the object does not match the name on the URL");
    if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== pod.metadata.resourceVersion) {
      throw new SubresourceError(
        409,
        `Operation cannot be fulfilled on pods "${pod.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    wanted = body.spec?.ephemeralContainers ?? [];
  } else {
    const type = (contentType ?? "").split(";")[0]!.trim();
    if (type === "application/strategic-merge-patch+json")
      wanted = strategicMerge(pod, body).spec.ephemeralContainers;
    // A JSON merge patch replaces the whole list.
    else if (type === "application/merge-patch+json")
      wanted = mergePatch(pod, body).spec?.ephemeralContainers;
    else
      throw new SubresourceError(
        415,
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
      );
    wanted ??= [];
  }
  const old: Json[] = pod.spec.ephemeralContainers ?? [];
  const causes: string[] = [];
  for (const [i, o] of old.entries()) {
    const now = wanted.find((w) => w?.name === o.name);
    if (!now)
      causes.push(
        `spec.ephemeralContainers: Forbidden: existing ephemeral containers "${o.name}" may not be removed`,
      );
    else if (JSON.stringify(now) !== JSON.stringify(o))
      causes.push(
        `spec.ephemeralContainers[${i}]: Forbidden: existing ephemeral containers "${o.name}" may not be changed`,
      );
  }
  const taken = new Set<string>(
    [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].map((c: Json) => c.name),
  );
  const regular = new Set<string>((pod.spec.containers ?? []).map((c: Json) => c.name));
  const volumes = new Set<string>((pod.spec.volumes ?? []).map((v: Json) => v.name));
  for (const [i, c] of wanted.entries()) {
    const at = `spec.ephemeralContainers[${i}]`;
    if (!c?.name) causes.push(`${at}.name: Required value`);
    else if (taken.has(c.name)) causes.push(`${at}.name: Duplicate value: "${c.name}"`);
    else taken.add(c.name);
    if (!c?.image) causes.push(`${at}.image: Required value`);
    if (c?.targetContainerName !== undefined && !regular.has(c.targetContainerName))
      causes.push(`${at}.targetContainerName: Not found: "${c.targetContainerName}"`);
    for (const f of FORBIDDEN_FIELDS)
      if (c?.[f] !== undefined)
        causes.push(`${at}.${f}: Forbidden: cannot be set for an Ephemeral Container`);
    for (const [j, m] of ((c?.volumeMounts ?? []) as Json[]).entries()) {
      if (!volumes.has(m?.name)) causes.push(`${at}.volumeMounts[${j}].name: Not found: "${m?.name}"`);
      if (!m?.mountPath) causes.push(`${at}.volumeMounts[${j}].mountPath: Required value`);
      if (m?.subPath !== undefined || m?.subPathExpr !== undefined)
        causes.push(`${at}.volumeMounts[${j}].subPath: Forbidden: cannot be set for an Ephemeral Container`);
    }
  }
  if (causes.length) throw invalid(pod, causes);
  const next = structuredClone(pod);
  next.spec.ephemeralContainers = wanted;
  const statuses: Json[] = next.status.ephemeralContainerStatuses ?? [];
  for (const c of wanted) {
    if (statuses.some((s) => s.name === c.name)) continue;
    statuses.push({
      name: c.name,
      image: c.image,
      imageID: "",
      ready: false,
      restartCount: 0,
      state: { running: { startedAt: new Date().toISOString() } },
    });
  }
  next.status.ephemeralContainerStatuses = statuses;
  return next;
}

/** One exec the server received. */
export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

/** What a test lets the "container" do with an exec: its exit code (and output for stdout). */
export type ExecHandler = (
  e: ExecRequest,
) => { exitCode: number; stdout?: string } | Promise<{ exitCode: number; stdout?: string }>;

const PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/** Where an exec may go: a running container of the pod (regular or ephemeral). */
export function execTarget(pod: KubeObject, container: string | null): string {
  const names = [...(pod.spec.containers ?? []), ...(pod.spec.ephemeralContainers ?? [])].map(
    (c: Json) => c.name,
  );
  const name = container ?? (pod.spec.containers?.length === 1 ? pod.spec.containers[0].name : undefined);
  if (!name)
    throw new SubresourceError(
      400,
      `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(" ")}]`,
    );
  if (!names.includes(name))
    throw new SubresourceError(400, `container ${name} is not valid for pod ${pod.metadata.name}`);
  const status = [
    ...(pod.status.containerStatuses ?? []),
    ...(pod.status.ephemeralContainerStatuses ?? []),
  ].find((s: Json) => s.name === name);
  if (!status?.state?.running)
    throw new SubresourceError(400, `unable to upgrade connection: container not found ("${name}")`);
  return name;
}

/** Answers an upgrade request that failed before the WebSocket was accepted: a plain HTTP Status. */
export function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify(statusObject(code, REASONS[code] ?? "Unknown", message));
  socket.end(
    `HTTP/1.1 ${code} ${REASONS[code] ?? "Error"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Accepts an exec's WebSocket, runs `handler`, sends stdout and the Status on their channels, closes. */
export function acceptExec(
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  exec: ExecRequest,
  handler: ExecHandler,
): void {
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const frame = (channel: number, text: string) =>
      ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(text)]));
    Promise.resolve()
      .then(() => handler(exec))
      .then(
        ({ exitCode, stdout }) => {
          if (stdout) frame(1, stdout);
          frame(
            3,
            JSON.stringify(
              exitCode === 0
                ? { metadata: {}, status: "Success" }
                : {
                    metadata: {},
                    status: "Failure",
                    message: `command terminated with non-zero exit code: error executing command [${exec.command.join(" ")}], exit code ${exitCode}`,
                    reason: "NonZeroExitCode",
                    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
                  },
            ),
          );
        },
        (err: Error) => frame(3, JSON.stringify({ metadata: {}, status: "Failure", message: err.message })),
      )
      .finally(() => ws.close(1000));
  });
}

/** The WebSocket server exec upgrades go through (no port of its own), speaking the channel protocols. */
export function execSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
}

import type { V1EphemeralContainer, V1Pod, V1VolumeMount } from "@kubernetes/client-node";
import { ChaosError } from "../../experiments/errors.js";
import type {
  ActivityInput,
  Agent,
  AgentContext,
  JsonSchema,
  PreparedFault,
  RevertContext,
  RevertDescription,
  RevertNote,
} from "../agent.js";
import { KubeApiError } from "./call.js";
import { PATCH } from "./client.js";
import { type Cluster, cluster, clusterFor } from "./cluster.js";
import type { ClusterRef } from "./config.js";
import { podObject, REASONS, recordEvents } from "./events.js";
import { execIn } from "./exec.js";
import { podTargetSchema, readPodTarget, resolvePods } from "./target.js";

/**
 * Faults inside a pod (network.*, stress.*) through an ephemeral container: the toolkit's own image, added
 * with the pods/ephemeralcontainers subresource, runs the agent's helper (`chaos intercept`, `chaos stress`)
 * under `chaos ephemeral`, in the namespaces of the pod's target container:
 *
 *   prepare ─ resolve pods (the kubernetes agent's selector) ─▶ revert { cluster, pods [uid, container] } ─ledger─▶
 *   apply   ─ PATCH ephemeralcontainers (strategic merge) ─▶ wait for ephemeralContainerStatuses running
 *   revert  ─ pods/exec `touch <stop file>` in that container ─▶ wait until it terminated (it undid its fault)
 *
 * The container carries its own deadline (`--for`, the fault's duration): it undoes its fault and exits then
 * whatever became of the run. Ephemeral containers cannot be removed; a stopped one stays in the pod's spec,
 * terminated, until the pod is replaced.
 */

/** The revert kind, under the network or stress agent, of a fault in a pod. */
export const POD_REVERT_KIND = "stop-ephemeral-container";
/** The file whose appearance stops the helper in the ephemeral container (early revert). */
export const STOP_FILE = "/tmp/chaos-stop";
/** The image's entry point (deploy/Dockerfile): `chaos` itself. */
export const IMAGE_ENTRY = ["node", "/opt/chaoskit/dist/src/cli/main.js"];
/** The toolkit's image when `configuration.kubernetes.image` does not name one. */
export const DEFAULT_IMAGE = "chaoskit:0.1.0";
/** How long a new ephemeral container may take to run (an image pull included). */
const startTimeoutMs = () => Number(process.env.CHAOS_EPHEMERAL_START_TIMEOUT_MS) || 120_000;
/** How long a stopped helper may take to undo its fault and exit. */
const stopTimeoutMs = () => Number(process.env.CHAOS_EPHEMERAL_STOP_TIMEOUT_MS) || 30_000;
const POLL_MS = 250;

/** The `pod` form of a target: the kubernetes agent's pod target, plus the container whose namespaces to join. */
export const podTargetProperty: JsonSchema = {
  ...podTargetSchema,
  properties: {
    ...(podTargetSchema.properties as Record<string, JsonSchema>),
    container: {
      type: "string",
      minLength: 1,
      maxLength: 63,
      description: "the container of the pod to act inside of (default: its first container)",
    },
  },
  description: "Kubernetes pods, as the kubernetes agent names them: namespace, labels/selector, select",
};

export function isPodTarget(target: Record<string, unknown> | undefined): boolean {
  return typeof target?.pod === "object" && target.pod !== null;
}

/** One pod a fault was put into, as the ledger keeps it. */
interface PodEntry {
  namespace: string;
  name: string;
  uid: string;
  container: string;
}

interface PodRevertData {
  cluster: ClusterRef;
  tag: string;
  pods: PodEntry[];
}

export interface PodFault {
  agent: "network" | "stress";
  input: ActivityInput;
  ctx: AgentContext;
  /** "latency 300ms", "burning 2 CPU workers at 80%": for the revert's description. */
  label: string;
  /** The fault's tag: names the ephemeral container. */
  tag: string;
  /**
   * The helper's command line after `chaos` (without its deadline: `chaos ephemeral` adds it), from the pod
   * and the container it acts inside of (a stress sized by the container's limits).
   * @throws ChaosError to refuse the pod before anything is added to it.
   */
  helper(pod: V1Pod, container: string): string[];
  /**
   * Volumes of the pod the container mounts (a disk fill's), and the user to write as: decided with the
   * helper, before anything is added.
   */
  mounts?(
    pod: V1Pod,
    container: string,
  ): { volumeMounts: V1VolumeMount[]; runAs?: { user?: number; group?: number } };
  /** How long the container keeps the fault: it stops by itself then. */
  forMs: number;
  /** Network faults need root and NET_ADMIN; a stressor needs nothing. */
  privileges: "net-admin" | "none";
}

/** A name for the container, unique per fault and valid as a DNS label. */
export function containerName(agent: string, tag: string): string {
  const suffix = tag
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()
    .slice(-10);
  return `chaos-${agent}-${suffix}`;
}

/** "30s" / "1500ms": a duration `chaos ephemeral --for` reads. */
const asDuration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** The ephemeral container a fault adds to a pod. */
export function ephemeralSpec(
  f: Pick<PodFault, "agent" | "tag" | "forMs" | "privileges">,
  helper: string[],
  image: string,
  target: string,
  mounts?: ReturnType<NonNullable<PodFault["mounts"]>>,
): V1EphemeralContainer {
  const net = f.privileges === "net-admin";
  return {
    ...(mounts?.volumeMounts.length ? { volumeMounts: mounts.volumeMounts } : {}),
    name: containerName(f.agent, f.tag),
    image,
    command: [
      ...IMAGE_ENTRY,
      "ephemeral",
      "--for",
      asDuration(f.forMs),
      "--stop-file",
      STOP_FILE,
      "--",
      ...helper,
    ],
    targetContainerName: target,
    imagePullPolicy: "IfNotPresent",
    stdin: false,
    tty: false,
    terminationMessagePolicy: "FallbackToLogsOnError",
    securityContext: net
      ? {
          // iptables in the pod's network namespace: root with NET_ADMIN, nothing else.
          runAsUser: 0,
          runAsNonRoot: false,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] },
        }
      : {
          ...(mounts?.runAs?.user !== undefined ? { runAsUser: mounts.runAs.user } : {}),
          ...(mounts?.runAs?.group !== undefined ? { runAsGroup: mounts.runAs.group } : {}),
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
  };
}

function imageOf(ctx: AgentContext): string {
  const k = ctx.configuration.kubernetes as Record<string, unknown> | undefined;
  return typeof k?.image === "string" ? k.image : DEFAULT_IMAGE;
}

async function readPod(c: Cluster, namespace: string, name: string, signal: AbortSignal): Promise<V1Pod> {
  return c.call({ verb: "get", resource: "pods", namespace, name }, signal, (o) =>
    c.core.readNamespacedPod({ name, namespace }, o),
  );
}

const stateOf = (pod: V1Pod, container: string) =>
  pod.status?.ephemeralContainerStatuses?.find((s) => s.name === container)?.state;

/** Polls the pod until `done` says so (true) or the time is up (false); a vanished pod counts as done. */
async function waitFor(
  c: Cluster,
  e: Pick<PodEntry, "namespace" | "name" | "uid">,
  ms: number,
  signal: AbortSignal,
  done: (pod: V1Pod) => boolean,
): Promise<V1Pod | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    let pod: V1Pod;
    try {
      pod = await readPod(c, e.namespace, e.name, signal);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
    if (pod.metadata?.uid !== e.uid || done(pod)) return pod;
    if (Date.now() > until || signal.aborted) return pod;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Turns the refusals of a cluster that will not take an ephemeral container into a clear error. */
function refused(err: unknown, pod: string): unknown {
  if (!(err instanceof KubeApiError)) return err;
  if (err.status === 404 && /could not find the requested resource/.test(err.message)) {
    return new ChaosError(
      "agent",
      `the cluster does not serve ephemeral containers (pods/ephemeralcontainers of ${pod} answered 404)`,
      {
        cause: err,
        hint: "pod targets need Kubernetes 1.23 or later; nothing was added to the pod",
      },
    );
  }
  if (err.status === 403) {
    return new ChaosError("agent", `the cluster forbids an ephemeral container in ${pod}: ${err.message}`, {
      cause: err,
      hint: /PodSecurity/.test(err.message)
        ? "the namespace's Pod Security level refuses the container's privileges (network faults need NET_ADMIN as root); relax the namespace's pod-security.kubernetes.io/enforce label, or fault the pod otherwise"
        : 'grant the verb "patch" on "pods/ephemeralcontainers" (see deploy/rbac.yaml)',
    });
  }
  if (err.status === 422) {
    return new ChaosError("agent", `the cluster refused the ephemeral container in ${pod}: ${err.message}`, {
      cause: err,
      hint: "check target.pod.container names a container of the pod",
    });
  }
  return err;
}

/**
 * The fault of a `network.*` or `stress.*` step whose target is `{ pod: … }`: touches nothing until apply.
 * @throws ChaosError("invalid") for a protected namespace; ChaosError("agent") when no pod matches (or
 * several without `select`) or the API fails.
 */
export async function preparePodFault(f: PodFault): Promise<PreparedFault> {
  const { ctx } = f;
  const raw = f.input.target.pod as Record<string, unknown>;
  const c = await cluster(ctx);
  const { pods } = await resolvePods(c, readPodTarget(raw), ctx.signal, ctx.log);
  const name = containerName(f.agent, f.tag);
  const wanted = typeof raw.container === "string" ? raw.container : undefined;
  const entries: PodEntry[] = pods.map((p) => ({
    namespace: p.namespace,
    name: p.name,
    uid: p.uid,
    container: name,
  }));
  const data: PodRevertData = { cluster: c.ref, tag: f.tag, pods: entries };
  const where = entries.map((e) => `pod ${e.namespace}/${e.name}`).join(", ");
  const revert: RevertDescription = {
    agent: f.agent,
    kind: POD_REVERT_KIND,
    description: `stop ${f.label} in ${where} (ephemeral container ${name})`,
    data: data as unknown as Record<string, unknown>,
  };
  const image = imageOf(ctx);
  return {
    revert,
    // One network fault per pod at a time (they share the pod's namespace); stress faults likewise.
    locks: entries.map((e) => c.lockKey(`${f.agent}-pod`, e.namespace, e.name)),
    async apply() {
      const out: Record<string, unknown>[] = [];
      for (const e of entries) {
        const what = `pod ${e.namespace}/${e.name}`;
        const pod = await readPod(c, e.namespace, e.name, ctx.signal);
        if (pod.metadata?.uid !== e.uid) {
          throw new ChaosError("agent", `${what} was replaced since it was selected`, {
            hint: "run again: the selection is made afresh",
          });
        }
        const containers = pod.spec?.containers ?? [];
        const target = wanted ?? containers[0]?.name;
        if (!target || !containers.some((x) => x.name === target)) {
          throw new ChaosError("agent", `${what} has no container "${target ?? ""}"`, {
            hint: `its containers: ${containers.map((x) => x.name).join(", ") || "none"}; set target.pod.container`,
          });
        }
        const spec = ephemeralSpec(f, f.helper(pod, target), image, target, f.mounts?.(pod, target));
        try {
          await c.call(
            { verb: "patch", resource: "pods/ephemeralcontainers", namespace: e.namespace, name: e.name },
            ctx.signal,
            (o) =>
              c.core.patchNamespacedPodEphemeralcontainers(
                { name: e.name, namespace: e.namespace, body: { spec: { ephemeralContainers: [spec] } } },
                o,
              ),
            { "Content-Type": PATCH.strategic },
          );
        } catch (err) {
          throw refused(err, what);
        }
        const now = await waitFor(c, e, startTimeoutMs(), ctx.signal, (p) => {
          const s = stateOf(p, name);
          return Boolean(s?.running || s?.terminated);
        });
        const state = now && stateOf(now, name);
        if (state?.terminated && state.terminated.exitCode !== 0) {
          throw new ChaosError(
            "agent",
            `the ephemeral container ${name} in ${what} exited with ${state.terminated.exitCode}: ${state.terminated.message ?? state.terminated.reason ?? "no message"}`,
            { hint: `kubectl logs -n ${e.namespace} ${e.name} -c ${name}` },
          );
        }
        if (!state?.running && !state?.terminated) {
          const waiting = state?.waiting;
          throw new ChaosError(
            "agent",
            `the ephemeral container ${name} in ${what} did not start within ${startTimeoutMs() / 1000}s${waiting ? ` (${waiting.reason}: ${waiting.message ?? ""})` : ""}`,
            {
              hint: `check that the node can pull ${image} (configuration.kubernetes.image); it stops by itself at its deadline`,
            },
          );
        }
        out.push({ pod: `${e.namespace}/${e.name}`, container: name, target: target, image });
      }
      const events = await recordEvents(c, ctx, entries.map(podObject), {
        reason: REASONS.applied,
        what: `${f.agent}: ${f.label} (ephemeral container ${name})`,
      });
      return { fault: f.label, for: asDuration(f.forMs), pods: out, ...(events ? { events } : {}) };
    },
  };
}

const isText = (v: unknown): v is string => typeof v === "string" && v.length > 0;

function readData(data: Record<string, unknown>): PodRevertData {
  const c = data.cluster as Partial<ClusterRef> | undefined;
  const pods = Array.isArray(data.pods) ? (data.pods as Partial<PodEntry>[]) : [];
  if (
    !c ||
    !isText(c.server) ||
    !isText(data.tag) ||
    pods.length === 0 ||
    pods.some((p) => !isText(p.namespace) || !isText(p.name) || !isText(p.uid) || !isText(p.container))
  ) {
    throw new ChaosError(
      "agent",
      `malformed ${POD_REVERT_KIND} entry: expected cluster, tag and pods [{ namespace, name, uid, container }]`,
      { hint: "the ledger entry was not written by a pod fault" },
    );
  }
  return {
    cluster: {
      server: c.server,
      kubeconfig: isText(c.kubeconfig) ? c.kubeconfig : undefined,
      context: isText(c.context) ? c.context : undefined,
    },
    tag: data.tag,
    pods: pods as PodEntry[],
  };
}

/**
 * Stops the helper of each recorded pod early: `touch` of its stop file through pods/exec, then waits until
 * the container has terminated (it undoes its fault before it exits). A pod gone or replaced, or a container
 * already terminated (its deadline passed), needs nothing. Idempotent.
 * @throws ChaosError("agent") when the exec fails or a container does not stop in time (the ledger entry
 * stays, and the container still stops at its own deadline).
 */
export async function revertPodFault(
  revert: RevertDescription,
  ctx: RevertContext,
): Promise<RevertNote | undefined> {
  const d = readData(revert.data);
  const c = await clusterFor(d.cluster, ctx);
  const gone: string[] = [];
  const stopped: PodEntry[] = [];
  const helper = `ephemeral container ${d.pods[0]!.container}`;
  for (const e of d.pods) {
    const what = `pod ${e.namespace}/${e.name}`;
    const pod = await waitFor(c, e, 0, ctx.signal, () => true);
    if (!pod || pod.metadata?.uid !== e.uid) {
      gone.push(what);
      continue;
    }
    if (!stateOf(pod, e.container)?.running) {
      ctx.log.info({ pod: what, container: e.container }, "ephemeral container not running; nothing to stop");
      continue;
    }
    await execIn(
      c,
      { namespace: e.namespace, pod: e.name, container: e.container },
      ["touch", STOP_FILE],
      ctx.signal,
    );
    const after = await waitFor(c, e, stopTimeoutMs(), ctx.signal, (p) => !stateOf(p, e.container)?.running);
    const state = after && after.metadata?.uid === e.uid ? stateOf(after, e.container) : undefined;
    if (state?.running) {
      await recordEvents(c, ctx, [podObject(e)], {
        reason: REASONS.revertFailed,
        type: "Warning",
        what: `${revert.agent} reverted: ${helper} was told to stop but still runs; it stops at its deadline`,
      });
      throw new ChaosError(
        "agent",
        `the ephemeral container ${e.container} in ${what} was told to stop but still runs after ${stopTimeoutMs() / 1000}s`,
        {
          hint: `kubectl logs -n ${e.namespace} ${e.name} -c ${e.container}; it stops by itself at its deadline, and chaos rollback tries again`,
        },
      );
    }
    ctx.log.info(
      { pod: what, container: e.container, exitCode: state?.terminated?.exitCode },
      "ephemeral container stopped",
    );
    stopped.push(e);
  }
  const events = await recordEvents(c, ctx, stopped.map(podObject), {
    reason: REASONS.reverted,
    what: `${revert.agent} reverted: ${helper} stopped, its fault undone`,
  });
  const notes = [
    ...(gone.length ? [`${gone.join(", ")} gone or replaced: its fault went with it`] : []),
    ...(events ? [events] : []),
  ];
  return notes.length ? { note: notes.join("; ") } : undefined;
}

/** An agent's revert that also reverts its faults in pods. */
export function withPodRevert(
  revert: Agent["revert"],
): (r: RevertDescription, ctx: RevertContext) => Promise<RevertNote | undefined> {
  return async (r, ctx) =>
    r.kind === POD_REVERT_KIND ? revertPodFault(r, ctx) : ((await revert(r, ctx)) ?? undefined);
}

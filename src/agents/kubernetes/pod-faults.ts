import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { V1Pod, V1VolumeMount } from "@kubernetes/client-node";
import { parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition, ActivityInput, AgentContext, PreparedFault } from "../agent.js";
import { TAG_FLAG } from "../inside/index.js";
import { HELPER_MAX_LIFETIME_MS } from "../network/fault.js";
import type { NetworkPlan } from "../network/plan.js";
import { FILL_PREFIX } from "../stress/disk.js";
import { DEFAULT_DEADLINE_MS, newTag } from "../stress/fault.js";
import { memoryMargin } from "../stress/memory.js";
import { formatBytes, parseSize, resolveSize } from "../stress/quantity.js";
import { isPodTarget, preparePodFault } from "./ephemeral.js";
import { containerLimit } from "./pod-usage.js";

/**
 * The network and stress agents' faults on `target: { pod: … }`: the helper each runs locally, run instead
 * by an ephemeral container in the pod (ephemeral.ts).
 */

/** A network fault in each selected pod: `chaos intercept` with the step's plan, as root with NET_ADMIN. */
export function preparePodNetworkFault(
  input: ActivityInput,
  ctx: AgentContext,
  fault: { label: string; plan: (tag: string) => NetworkPlan },
): Promise<PreparedFault> {
  const tag = `${ctx.runId}.${randomBytes(3).toString("hex")}`;
  const plan = fault.plan(tag);
  return preparePodFault({
    agent: "network",
    input,
    ctx,
    label: fault.label,
    tag,
    helper: () => ["intercept", TAG_FLAG, tag, "--plan", JSON.stringify(plan)],
    forMs: input.durationMs ?? HELPER_MAX_LIFETIME_MS,
    privileges: "net-admin",
  });
}

const trimmed = (dir: string) => posix.normalize(dir).replace(/(.)\/+$/, "$1");

/**
 * Where a disk fill goes in a pod: the volume the target container mounts at or above `path` (the deepest
 * such mount), mounted likewise into the ephemeral container. Ephemeral containers may mount the pod's
 * volumes but not a subPath: a mount with one is mounted whole, and the fill goes into its subPath.
 * @throws ChaosError("invalid") for a path under no volume mount (the container's own filesystem is out of
 * reach), a read-only mount, or one with subPathExpr.
 */
export function podFillPlan(
  pod: V1Pod,
  container: string,
  path: string,
  tag: string,
): { file: string; volumeMounts: V1VolumeMount[]; runAs: { user?: number; group?: number } } {
  const where = `container ${container} of pod ${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const spec = pod.spec?.containers?.find((c) => c.name === container);
  const dir = trimmed(path);
  const mounts = spec?.volumeMounts ?? [];
  const m = mounts
    .filter((v) => {
      const at = trimmed(v.mountPath);
      return dir === at || dir.startsWith(at === "/" ? "/" : `${at}/`);
    })
    .sort((a, b) => trimmed(b.mountPath).length - trimmed(a.mountPath).length)[0];
  if (!m) {
    throw new ChaosError("invalid", `path ${path} is not under any volume mount of ${where}`, {
      hint: `an ephemeral container reaches the pod's volumes only; ${container}'s mounts: ${mounts.map((v) => `${v.mountPath} (${v.name})`).join(", ") || "none"}`,
    });
  }
  if (m.readOnly) {
    throw new ChaosError("invalid", `the volume ${m.name} holding ${path} is mounted read-only in ${where}`, {
      hint: "fill a volume the container writes to",
    });
  }
  if (m.subPathExpr) {
    throw new ChaosError(
      "invalid",
      `the volume ${m.name} holding ${path} is mounted with subPathExpr in ${where}`,
      {
        hint: "its folder depends on the container's environment, which the ephemeral container does not share; fill another volume",
      },
    );
  }
  const folder = posix.join(m.mountPath, m.subPath ?? "", dir.slice(trimmed(m.mountPath).length));
  const ctx = spec?.securityContext;
  const podCtx = pod.spec?.securityContext;
  // Written as the container writes (a volume is often writable by its user alone); never as root.
  const user = ctx?.runAsUser ?? podCtx?.runAsUser;
  const group = ctx?.runAsGroup ?? podCtx?.runAsGroup;
  return {
    file: posix.join(folder, `${FILL_PREFIX}${tag}`),
    volumeMounts: [{ name: m.name, mountPath: m.mountPath }],
    runAs: { ...(user ? { user } : {}), ...(group ? { group } : {}) },
  };
}

/** The stress helper's command line in a pod, sized by the target container's limits. */
function stressHelper(kind: string, input: ActivityInput, tag: string, forMs: number) {
  const a = input.args;
  return (pod: V1Pod, container: string): string[] => {
    const common = ["--for", `${forMs}ms`, "--tag", tag];
    const where = `container ${container} of pod ${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (kind === "disk") {
      const { file } = podFillPlan(pod, container, a.path as string, tag);
      const amount = a.size !== undefined ? ["--size", String(a.size)] : ["--free", String(a.free)];
      return ["stress", "disk", "--file", file, ...amount, ...common];
    }
    if (kind === "cpu") {
      const cores = containerLimit(pod, container, "cpu");
      const workers = typeof a.workers === "number" ? a.workers : Math.max(1, Math.ceil(cores ?? 1));
      const load = typeof a.load === "number" ? a.load : 100;
      return ["stress", "cpu", "--workers", String(workers), "--load", String(load), ...common];
    }
    const limit = containerLimit(pod, container, "memory");
    const size = parseSize(a.size, "args.size");
    if ("percent" in size && limit === undefined) {
      throw new ChaosError("invalid", `args.size is a percent, but ${where} has no memory limit`, {
        hint: "write the size as a quantity (256Mi), or give the container a limit",
      });
    }
    const bytes = resolveSize(size, limit, "args.size");
    if (limit !== undefined && a.force !== true && bytes > limit - memoryMargin(limit)) {
      throw new ChaosError(
        "invalid",
        `holding ${formatBytes(bytes)} would leave less than a margin of ${formatBytes(memoryMargin(limit))} under the ${formatBytes(limit)} limit of ${where}`,
        { hint: "ask for less, or set force: true to risk an OOM kill of the pod's containers" },
      );
    }
    const grow = typeof a["grow-over"] === "string" ? ["--grow-over", a["grow-over"]] : [];
    return ["stress", "memory", "--size", String(bytes), ...grow, ...common];
  };
}

/** A stress fault in each selected pod: `chaos stress` as the image's unprivileged user. */
function preparePodStressFault(
  kind: string,
  input: ActivityInput,
  ctx: AgentContext,
): Promise<PreparedFault> {
  const tag = newTag(ctx.runId);
  const forMs =
    typeof input.args.deadline === "string"
      ? parseDuration(input.args.deadline)
      : (input.durationMs ?? DEFAULT_DEADLINE_MS);
  return preparePodFault({
    agent: "stress",
    input,
    ctx,
    label: kind === "cpu" ? "the CPU stress" : kind === "memory" ? "the memory stress" : "the disk fill",
    tag,
    helper: stressHelper(kind, input, tag, forMs),
    ...(kind === "disk"
      ? {
          mounts: (pod: V1Pod, container: string) => {
            const { volumeMounts, runAs } = podFillPlan(pod, container, input.args.path as string, tag);
            return { volumeMounts, runAs };
          },
        }
      : {}),
    forMs,
    privileges: "none",
  });
}

/** The stress actions, each also taking `target: { pod: … }`. */
export function withPodStress(actions: Record<string, ActionDefinition>): Record<string, ActionDefinition> {
  return Object.fromEntries(
    Object.entries(actions).map(([name, action]) => [
      name,
      {
        ...action,
        prepare: (input, ctx) =>
          isPodTarget(input.target) ? preparePodStressFault(name, input, ctx) : action.prepare(input, ctx),
      } satisfies ActionDefinition,
    ]),
  );
}

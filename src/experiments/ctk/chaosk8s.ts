import { isObj, type Obj, secondsAgo } from "./context.js";
import type { Mapped } from "./providers.js";
import type { K8sShape } from "./shapes.js";

/**
 * chaosk8s (chaostoolkit-kubernetes) functions onto the kubernetes agent, where the meaning is the same.
 * Its probes read pods by label_selector in ns (default "default"), every pod of ns when the selector is
 * empty or None; here they become kubernetes.pods (`all: true` for every pod), kubernetes.pod-logs or
 * kubernetes.deployment, and the tolerance sees what the function returns (see shapes.ts): a boolean, a
 * count, the logs by pod name, or a failed probe where the function raises ActivityFailed (its raise_on_…
 * argument, true by default).
 */
export type Mapper = (a: Obj, note: (text: string) => void) => Mapped | string;

function namespace(a: Obj): string {
  return typeof a.ns === "string" ? a.ns : "default";
}

function bool(a: Obj, key: string, def: boolean): boolean | string {
  const v = a[key] ?? def;
  return typeof v === "boolean" ? v : `${key} must be true or false`;
}

const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];

/**
 * label_selector has no default in these functions' signatures: chaoslib's validation (sig.bind) refuses an
 * activity without it, so it is refused here too, pointing at what does mean every pod.
 */
function missingSelector(a: Obj): string | undefined {
  if ("label_selector" in a) return undefined;
  return 'required argument label_selector is missing (Chaos Toolkit refuses it too); label_selector: "" or null reads every pod of ns';
}

/**
 * Which pods a chaosk8s probe lists: `if label_selector:` there, so an empty one or None means every pod of
 * ns.
 */
function podsOf(sel: unknown): Obj | string {
  if (sel === undefined || sel === null || sel === "") return { all: true };
  if (typeof sel !== "string") return "label_selector must be a text";
  if (sel.trim() === "") return { all: true };
  return { selector: sel };
}

/** A probe over the pods of label_selector in `phase`, judged as `fn` returns it. */
function podsProbe(
  fn: string,
  raiseKey: string | undefined,
  defaultPhase: string | undefined,
  selector?: (a: Obj) => unknown,
): Mapper {
  return (a) => {
    const missing = selector ? undefined : missingSelector(a);
    if (missing) return missing;
    const pods = podsOf(selector ? selector(a) : a.label_selector);
    if (typeof pods === "string") return pods;
    const phase = a.phase ?? defaultPhase;
    if (phase !== undefined && phase !== null && !PHASES.includes(String(phase)))
      return `phase ${JSON.stringify(phase)} is not a pod phase (${PHASES.join(", ")})`;
    const shape: K8sShape = { chaosk8s: fn };
    if (raiseKey) {
      const raise = bool(a, raiseKey, true);
      if (typeof raise === "string") return raise;
      shape.raise = raise;
    }
    if (fn === "count_min_pods") {
      const min = a.min_count ?? 2;
      if (!Number.isInteger(min)) return "min_count must be an integer";
      shape.min_count = min as number;
    }
    return {
      kind: "probe",
      key: "kubernetes.pods",
      args: { namespace: namespace(a), ...pods, ...(phase ? { phase } : {}) },
      ...(fn === "count_pods" ? {} : { toleranceShape: shape }),
    };
  };
}

/**
 * pods_in_conditions compares each wanted condition with the pod's {type, status} pairs as Python dicts: a
 * condition with other keys, or a status that is not text (YAML's unquoted True), never matches there.
 */
const podsInConditions: Mapper = (a) => {
  const missing = missingSelector(a);
  if (missing) return missing;
  if (!Array.isArray(a.conditions)) return 'needs conditions, a list such as [{type: Ready, status: "True"}]';
  const conditions: { type: string; status: string }[] = [];
  for (const [i, c] of a.conditions.entries()) {
    if (!isObj(c) || typeof c.type !== "string" || typeof c.status !== "string")
      return `conditions[${i}] must be {type, status} with both as text (status "True", quoted), or it never matches`;
    const other = Object.keys(c).find((k) => k !== "type" && k !== "status");
    if (other !== undefined)
      return `conditions[${i}] has "${other}": only type and status are compared, so it would never match`;
    conditions.push({ type: c.type, status: c.status });
  }
  const pods = podsOf(a.label_selector);
  if (typeof pods === "string") return pods;
  const raise = bool(a, "raise_on_invalid_conditions", true);
  if (typeof raise === "string") return raise;
  return {
    kind: "probe",
    key: "kubernetes.pods",
    args: { namespace: namespace(a), ...pods, ...(conditions.length ? { conditions } : {}) },
    toleranceShape: { chaosk8s: "pods_in_conditions", raise },
  };
};

/** The largest `last` our durations take (24 h). */
const MAX_SINCE_S = 24 * 3600;

/**
 * read_pod_logs: the logs of the pods of label_selector (default "name in ({name})", formatted with name, so
 * "name in (None)" without one), with timestamps, by pod name.
 */
const readPodLogs: Mapper = (a, note) => {
  const template = a.label_selector ?? "name in ({name})";
  if (typeof template !== "string") return "label_selector must be a text";
  const name = a.name === undefined || a.name === null ? "None" : String(a.name);
  const pods = podsOf(template.replaceAll("{name}", name));
  if (typeof pods === "string") return pods;
  let since: number | undefined;
  if (a.last !== undefined && a.last !== null && a.last !== "") {
    since = secondsAgo(a.last, true);
    if (since === undefined)
      return `last ${JSON.stringify(a.last)}: only a time span such as "10 minutes" maps here`;
    if (since > MAX_SINCE_S) return `last ${JSON.stringify(a.last)}: at most 24 hours maps here`;
    since = Math.floor(since);
  }
  const previous = bool(a, "from_previous", false);
  if (typeof previous === "string") return previous;
  const container = a.container_name ?? undefined;
  if (container !== undefined && container !== null && typeof container !== "string")
    return "container_name must be a text";
  note("each pod's log is read up to 1 MiB (limit-bytes), where Chaos Toolkit reads it whole");
  return {
    kind: "probe",
    key: "kubernetes.pod-logs",
    args: {
      namespace: namespace(a),
      ...pods,
      ...(container ? { container } : {}),
      ...(previous ? { previous: true } : {}),
      ...(since ? { since: `${since}s` } : {}),
      timestamps: true,
    },
    toleranceShape: { chaosk8s: "read_pod_logs" },
  };
};

function deploymentProbe(fn: string, raiseKey: string): Mapper {
  return (a) => {
    if (typeof a.name !== "string" || a.name === "") return "needs name, the Deployment's name";
    if (a.label_selector !== undefined && a.label_selector !== null)
      return "label_selector beside name has no equivalent; the Deployment is read by name";
    const raise = bool(a, raiseKey, true);
    if (typeof raise === "string") return raise;
    return {
      kind: "probe",
      key: "kubernetes.deployment",
      args: { namespace: namespace(a), name: a.name },
      toleranceShape: { chaosk8s: fn, raise },
    };
  };
}

/**
 * The parameters of the chaosk8s probes (chaosk8s/pod/probes.py, chaosk8s/deployment/probes.py): chaoslib's
 * validation binds the arguments to the signature, so an argument not in it (`container` for
 * `container_name`, say) is refused there, as here, rather than silently ignored.
 */
const PROBE_PARAMS: Record<string, string[]> = {
  read_pod_logs: ["name", "last", "ns", "from_previous", "label_selector", "container_name"],
  pods_in_phase: ["label_selector", "phase", "ns", "raise_on_invalid_phase"],
  pods_in_conditions: ["label_selector", "conditions", "ns", "raise_on_invalid_conditions"],
  pods_not_in_phase: ["label_selector", "phase", "ns", "raise_on_in_phase"],
  count_pods: ["label_selector", "phase", "ns"],
  pod_is_not_available: ["name", "ns", "label_selector", "raise_on_is_available"],
  all_pods_healthy: ["ns", "raise_on_any_unhealthy"],
  count_min_pods: ["label_selector", "phase", "min_count", "ns"],
  deployment_available_and_healthy: ["name", "ns", "label_selector", "raise_on_unavailable"],
  deployment_partially_available: ["name", "ns", "label_selector", "raise_on_not_partially_available"],
};

function signed(fn: string, mapper: Mapper): Mapper {
  const params = new Set([...PROBE_PARAMS[fn]!, "secrets"]);
  return (a, note) => {
    const unknown = Object.keys(a).filter((k) => !params.has(k));
    if (unknown.length)
      return `${unknown.map((k) => `argument ${k}`).join(", ")} ${unknown.length > 1 ? "are" : "is"} not part of the function's signature (Chaos Toolkit refuses it too): ${[...params].join(", ")}`;
    return mapper(a, note);
  };
}

const PROBES: Record<string, Mapper> = {
  "chaosk8s.pod.probes.pods_in_phase": podsProbe("pods_in_phase", "raise_on_invalid_phase", "Running"),
  "chaosk8s.pod.probes.pods_not_in_phase": podsProbe("pods_not_in_phase", "raise_on_in_phase", "Running"),
  "chaosk8s.pod.probes.count_pods": podsProbe("count_pods", undefined, undefined),
  "chaosk8s.pod.probes.count_min_pods": podsProbe("count_min_pods", undefined, "Running"),
  "chaosk8s.pod.probes.pods_in_conditions": podsInConditions,
  "chaosk8s.pod.probes.read_pod_logs": readPodLogs,
  // Every pod of ns, healthy when none is Failed and every other one is Running or Succeeded.
  "chaosk8s.pod.probes.all_pods_healthy": (a) => {
    const raise = bool(a, "raise_on_any_unhealthy", true);
    if (typeof raise === "string") return raise;
    return {
      kind: "probe",
      key: "kubernetes.pods",
      args: { namespace: namespace(a), all: true },
      toleranceShape: { chaosk8s: "all_pods_healthy", raise },
    };
  },
  "chaosk8s.pod.probes.pod_is_not_available": (a, note) => {
    if (typeof a.name !== "string" || a.name === "") return "needs name";
    if (a.phase !== undefined) return "pod_is_not_available takes no phase";
    const template = a.label_selector ?? "name in ({name})";
    if (typeof template !== "string") return "label_selector must be a text";
    return podsProbe("pod_is_not_available", "raise_on_is_available", "Running", () =>
      template.replaceAll("{name}", String(a.name)),
    )(a, note);
  },
  "chaosk8s.deployment.probes.deployment_available_and_healthy": deploymentProbe(
    "deployment_available_and_healthy",
    "raise_on_unavailable",
  ),
  "chaosk8s.deployment.probes.deployment_partially_available": deploymentProbe(
    "deployment_partially_available",
    "raise_on_not_partially_available",
  ),
};

export const CHAOSK8S: Record<string, Mapper> = {
  "chaosk8s.pod.actions.terminate_pods": (a, note) => {
    if (a.name_pattern !== undefined)
      return "name_pattern (a regex over pod names) has no equivalent; use label_selector";
    if (typeof a.label_selector !== "string") return "needs label_selector";
    const qty = Number(a.qty ?? 1);
    const select =
      a.all === true
        ? { mode: "all" }
        : a.mode === "percentage"
          ? { mode: "percent", percent: qty }
          : a.rand === true
            ? { mode: "count", count: qty }
            : qty === 1
              ? { mode: "one" }
              : { mode: "count", count: qty };
    if (a.rand !== true && a.all !== true)
      note("Chaos Toolkit picks pods in alphabetic order without rand: true; here they are picked at random");
    const grace = Number(a.grace_period ?? -1);
    return {
      kind: "action",
      ref: "kubernetes.pod-kill",
      target: { namespace: namespace(a), selector: a.label_selector, select },
      args: grace >= 0 ? { "grace-period": `${grace}s` } : {},
    };
  },
  "chaosk8s.deployment.actions.scale_deployment": (a, note) => {
    if (typeof a.name !== "string" || !Number.isInteger(a.replicas)) return "needs name and replicas";
    note("the Deployment is scaled back to its replicas automatically at the end");
    return {
      kind: "action",
      ref: "kubernetes.scale",
      target: { namespace: namespace(a), deployment: a.name },
      args: { replicas: a.replicas },
    };
  },
  ...Object.fromEntries(
    Object.entries(PROBES).map(([name, mapper]) => [
      name,
      signed(name.slice(name.lastIndexOf(".") + 1), mapper),
    ]),
  ),
};

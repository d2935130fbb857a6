import type { ProbeResult } from "../../contract/agent.js";

/**
 * What a Chaos Toolkit provider returns, rebuilt from one of our probes' results so that its tolerance sees
 * the same value (a tolerance's `output:` in a converted experiment):
 *
 *   prometheus                       the API's answer, {status, data: {resultType, result}}: a vector, or the
 *                                    matrix of a range query with every point
 *   {chaosk8s: <function>, raise?}   what that chaosk8s probe returns, computed from kubernetes.pods,
 *                                    kubernetes.pod-logs (read_pod_logs: the logs by pod name) or
 *                                    kubernetes.deployment; where the function would raise ActivityFailed
 *                                    (raise_on_…: true, the default), the probe fails, as it does there
 */
export type CtkShape = "prometheus" | K8sShape;

export interface K8sShape {
  chaosk8s: string;
  /** The function's raise_on_… argument: a false result fails the probe instead of returning False. */
  raise?: boolean;
  /** count_min_pods's min_count. */
  min_count?: number;
}

/** The probe failed where Chaos Toolkit's would have raised: its tolerance is not met whatever it says. */
export class CtkFailed {
  constructor(readonly message: string) {}
}

type K8sCheck = (value: number, f: Record<string, unknown>, s: K8sShape) => unknown;

const num = (v: unknown) => (typeof v === "number" ? v : 0);

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** chaosk8s/pod/probes.py and chaosk8s/deployment/probes.py, on the counts our probes give. */
const K8S: Record<string, K8sCheck> = {
  // kubernetes.pods with phase: value = pods in the phase, fields.total = pods listed.
  pods_in_phase: (v, f) => num(f.total) > 0 && v === num(f.total),
  pods_not_in_phase: (v, f) => num(f.total) > 0 && v === 0,
  // kubernetes.pods with conditions: value = pods carrying all of them.
  pods_in_conditions: (v, f) => num(f.total) > 0 && v === num(f.total),
  // kubernetes.pods with all: true: no pod Failed, every other one Running or Succeeded (an empty ns is).
  all_pods_healthy: (_v, f) => num(f.failed) === 0 && num(f.running) + num(f.succeeded) === num(f.total),
  // kubernetes.pod-logs: {pod name: text}.
  read_pod_logs: (_v, f) => (isObj(f.logs) ? f.logs : {}),
  // kubernetes.pods with phase Running.
  pod_is_not_available: (v) => v === 0,
  count_min_pods: (v, _f, s) => v >= (s.min_count ?? 2),
  // kubernetes.deployment: status.availableReplicas is absent (None) when 0, and None != spec.replicas.
  deployment_available_and_healthy: (_v, f) => num(f.replicas) > 0 && num(f.available) === num(f.replicas),
  // `None >= 1` raises TypeError there whatever raise_on_… says.
  deployment_partially_available: (_v, f) =>
    num(f.available) >= 1 ? true : new CtkFailed("no replica is available (Python: None >= 1 raises)"),
};

export const K8S_SHAPES = Object.keys(K8S);

/** The problem with an `output:` value, or undefined when it is one of the shapes above. */
export function shapeProblem(v: unknown): string | undefined {
  if (v === undefined || v === "prometheus") return undefined;
  if (!isObj(v) || typeof v.chaosk8s !== "string")
    return `unknown output shape ${JSON.stringify(v)}: prometheus or { chaosk8s: <function> }`;
  if (!K8S_SHAPES.includes(v.chaosk8s))
    return `chaosk8s function ${v.chaosk8s} has no shape here; one of ${K8S_SHAPES.join(", ")}`;
  const other = Object.keys(v).find((k) => !["chaosk8s", "raise", "min_count"].includes(k));
  if (other !== undefined) return `output takes chaosk8s, raise and min_count, found "${other}"`;
  if (v.raise !== undefined && typeof v.raise !== "boolean") return "raise must be true or false";
  if (v.min_count !== undefined && !Number.isInteger(v.min_count)) return "min_count must be an integer";
  return undefined;
}

function k8sOutput(r: ProbeResult, s: K8sShape): unknown {
  const check = K8S[s.chaosk8s];
  if (!check) return new CtkFailed(`chaosk8s function ${s.chaosk8s} has no shape here`);
  const out = check(num(r.value), r.fields ?? {}, s);
  if (out === false && s.raise !== false && s.chaosk8s !== "count_min_pods")
    return new CtkFailed(`${s.chaosk8s} raised ActivityFailed: ${r.summary ?? String(r.value)}`);
  return out;
}

function httpOutput(f: Record<string, unknown>): unknown {
  const headers = (f.headers ?? {}) as Record<string, string>;
  const text = String(f.text ?? f.body ?? "");
  let body: unknown = text;
  if (headers["content-type"] === "application/json") {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: f.status, headers, body };
}

/** A sample value as the Prometheus API writes it: "+Inf", "-Inf", "NaN", else the number. */
function promText(v: unknown): string {
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

/**
 * The output a Chaos Toolkit provider returns, rebuilt from a probe's result: `http` probes give
 * `{status, headers, body}` (the body parsed only when Content-Type is exactly application/json, as
 * Chaos Toolkit does), `process.exec` gives `{status, stdout, stderr}`, a PromQL probe with
 * `shape: prometheus` the API's answer (`{status, data: {resultType, result}}`), a chaosk8s shape what that
 * function returns (or CtkFailed), any other probe its value.
 */
export function ctkOutput(r: ProbeResult, shape?: CtkShape): unknown {
  const f = r.fields ?? {};
  if (shape === "prometheus") {
    const now = Date.now() / 1000;
    const series =
      r.series ?? (r.value === null || r.value === undefined ? [] : [{ labels: {}, value: r.value }]);
    // A range query (chaosprometheus's query_interval) answers a matrix, every point of every series, and
    // an empty one still: {resultType: "matrix", result: []}.
    if (f.resultType === "matrix" || series.some((s) => s.points))
      return {
        status: "success",
        data: {
          resultType: "matrix",
          result: series.map((s) => ({
            metric: s.labels,
            values: (s.points ?? []).map(([t, v]) => [t, promText(v)]),
          })),
        },
      };
    const result = series.map((s) => ({ metric: s.labels, value: [now, promText(s.value)] }));
    return { status: "success", data: { resultType: "vector", result } };
  }
  if (shape) return k8sOutput(r, shape);
  if ("stdout" in f) return { status: f.status, stdout: f.stdout, stderr: f.stderr };
  if ("headers" in f && "status" in f) return httpOutput(f);
  return r.value;
}

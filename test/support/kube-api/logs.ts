import type { KubeObject } from "./store.js";

/**
 * Container logs as the pods/log subresource serves them (`GET …/pods/{name}/log`, text/plain): the
 * container named by `container` (or the pod's only one), its current run or, with `previous=true`, the one
 * before its last restart; `sinceSeconds` / `sinceTime`, then `tailLines`, then `limitBytes`; `timestamps`
 * prefixes each line with the time it was written, in the kubelet's fixed-width RFC 3339 nanoseconds. The
 * errors are the API server's and kubelet's, with their messages.
 */

export class LogError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Line {
  at: Date;
  text: string;
}

/** 2026-12-07T20:01:02.123000000Z */
function stamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null) return undefined;
  if (!/^-?\d+$/.test(raw)) throw new LogError(400, `${name}: Invalid value: "${raw}": must be an integer`);
  return Number(raw);
}

function invalid(field: string, value: unknown, why: string): LogError {
  return new LogError(422, `PodLogOptions "" is invalid: ${field}: Invalid value: ${value}: ${why}`);
}

export class PodLogs {
  /** "ns/pod/container" → the lines of its current run and of its previous one. */
  private readonly runs = new Map<string, { current: Line[]; previous?: Line[] }>();

  private run(namespace: string, pod: string, container: string) {
    const key = `${namespace}/${pod}/${container}`;
    let r = this.runs.get(key);
    if (!r) {
      r = { current: [] };
      this.runs.set(key, r);
    }
    return r;
  }

  /** Appends lines (split at newlines) to a container's log, as written at `at` (default: now). */
  write(namespace: string, pod: string, container: string, text: string, at = new Date()): void {
    const r = this.run(namespace, pod, container);
    for (const line of text.replace(/\n$/, "").split("\n")) r.current.push({ at, text: line });
  }

  /** The container restarted: its log so far becomes the previous run's, and a new one starts empty. */
  restart(namespace: string, pod: string, container: string): void {
    const r = this.run(namespace, pod, container);
    r.previous = r.current;
    r.current = [];
  }

  /**
   * The body of `GET pods/{name}/log` for this pod and query.
   * @throws LogError with the status and message a real server gives.
   */
  answer(pod: KubeObject, q: URLSearchParams, now = new Date()): string {
    const name = pod.metadata.name as string;
    const namespace = pod.metadata.namespace as string;
    const tail = intParam(q, "tailLines");
    const limit = intParam(q, "limitBytes");
    const since = intParam(q, "sinceSeconds");
    const sinceTime = q.get("sinceTime");
    if (tail !== undefined && tail < 0)
      throw invalid("tailLines", tail, "must be greater than or equal to 0");
    if (limit !== undefined && limit < 1) throw invalid("limitBytes", limit, "must be greater than 0");
    if (since !== undefined && since < 1) throw invalid("sinceSeconds", since, "must be greater than 0");
    if (since !== undefined && sinceTime !== null)
      throw new LogError(
        422,
        'PodLogOptions "" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
      );
    const containers: string[] = (pod.spec.containers ?? []).map((c: { name: string }) => c.name);
    let container = q.get("container") ?? "";
    if (container === "") {
      if (containers.length !== 1)
        throw new LogError(
          400,
          `a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`,
        );
      container = containers[0]!;
    } else if (!containers.includes(container)) {
      throw new LogError(400, `container ${container} is not valid for pod ${name}`);
    }
    if (!pod.spec.nodeName) throw new LogError(400, `pod ${name} does not have a host assigned`);
    const status = (pod.status.containerStatuses ?? []).find((s: { name: string }) => s.name === container);
    const waiting =
      status?.state?.waiting?.reason ?? (pod.status.phase === "Pending" ? "ContainerCreating" : undefined);
    const previous = q.get("previous") === "true";
    const r = this.runs.get(`${namespace}/${name}/${container}`);
    if (previous && !r?.previous)
      throw new LogError(400, `previous terminated container "${container}" in pod "${name}" not found`);
    if (!previous && (waiting || !status))
      throw new LogError(
        400,
        `container "${container}" in pod "${name}" is waiting to start: ${waiting ?? "ContainerCreating"}`,
      );
    let lines = (previous ? r?.previous : r?.current) ?? [];
    const from =
      since !== undefined
        ? now.getTime() - since * 1000
        : sinceTime !== null
          ? Date.parse(sinceTime)
          : undefined;
    if (from !== undefined) lines = lines.filter((l) => l.at.getTime() >= from);
    if (tail !== undefined) lines = tail === 0 ? [] : lines.slice(-tail);
    const timestamps = q.get("timestamps") === "true";
    let body = lines.map((l) => `${timestamps ? `${stamp(l.at)} ` : ""}${l.text}\n`).join("");
    if (limit !== undefined) {
      const bytes = Buffer.from(body);
      if (bytes.length > limit) body = bytes.subarray(0, limit).toString();
    }
    return body;
  }
}

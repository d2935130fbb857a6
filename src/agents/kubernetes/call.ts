import type { ApiException, Observable, RequestContext, ResponseContext } from "@kubernetes/client-node";
import { sleep } from "../../experiments/clock.js";
import { ChaosError } from "../../experiments/errors.js";
import type { KubeClient } from "./client.js";

/**
 * One Kubernetes API call, as the agent's boundary sees it: a deadline, the run's abort signal, bounded
 * retries for what a busy API server answers (409, 429, 5xx, a refused connection) honouring Retry-After,
 * and every failure turned into a ChaosError("agent") that names the verb, resource and namespace.
 */

/** What a call does, in RBAC terms: the words a 403 message and the Role in deploy/ use. */
export interface CallSpec {
  verb: "get" | "list" | "delete" | "patch" | "create" | "update";
  /** The RBAC resource, e.g. "pods", "deployments/scale", "networkpolicies", "nodes". */
  resource: string;
  namespace?: string;
  name?: string;
}

/** A failed call: a ChaosError("agent") that keeps the HTTP status so callers can treat 404 as "gone". */
export class KubeApiError extends ChaosError {
  constructor(
    readonly status: number | undefined,
    message: string,
    opts: { hint?: string; cause?: unknown },
  ) {
    super("agent", message, opts);
  }
}

/**
 * The connection pool a cluster's calls share. The client builds a new undici Agent for every request (a new
 * TCP and TLS connection each time); the first one it builds is kept and handed to every later request, so
 * a thousand deletes reuse a few kept-alive connections.
 */
type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

export interface ConnectionPool {
  dispatcher?: Dispatcher;
  /** Every request keeps the connection the client built for it (credentials that refresh). */
  disabled?: boolean;
}

export interface CallOptions {
  /** The loaded client library (its Observable carries the middleware). */
  lib: Pick<KubeClient, "Observable">;
  pool: ConnectionPool;
  signal: AbortSignal;
  timeoutMs: number;
  /** Extra request headers, e.g. a patch's Content-Type. */
  headers?: Record<string, string>;
  tries?: number;
  /** The answer is text (a pod's log), not a JSON object. */
  text?: boolean;
}

/** The per-request options @kubernetes/client-node accepts: middleware that sets the signal and headers. */
export interface RequestOptions {
  middleware: {
    pre(c: RequestContext): Observable<RequestContext>;
    post(c: ResponseContext): Observable<ResponseContext>;
  }[];
  middlewareMergeStrategy: "append";
}

const TRIES = 5;
const FIRST_BACKOFF_MS = 200;
const MAX_WAIT_MS = 10_000;
const RETRIED = new Set([409, 429, 500, 502, 503, 504]);

function requestOptions(opts: CallOptions, signal: AbortSignal): RequestOptions {
  const { lib, pool, headers = {} } = opts;
  return {
    middleware: [
      {
        pre(c) {
          c.setSignal(signal);
          const built = c.getDispatcher();
          // With refreshing credentials, keep the client's own connection, built with this moment's certificate.
          if (!pool.disabled) {
            if (built && pool.dispatcher) c.setDispatcher(pool.dispatcher);
            else pool.dispatcher = built;
          }
          for (const [k, v] of Object.entries(headers)) c.setHeaderParam(k, v);
          return new lib.Observable(Promise.resolve(c));
        },
        post: (r) => new lib.Observable(Promise.resolve(r)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

/** The client's ApiException, recognised by shape (the library is loaded lazily, so no instanceof). */
function isApiException(err: unknown): err is ApiException<unknown> {
  const e = err as Partial<ApiException<unknown>> | null;
  return typeof e === "object" && e !== null && typeof e.code === "number" && "body" in e && "headers" in e;
}

class UnexpectedAnswer extends Error {
  constructor(type: string) {
    super(`expected a JSON object, got ${type === "string" ? "text" : type}`);
  }
}

/** fetch's own failure (refused, reset, DNS): the request may not have reached the server. */
function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && err.message === "fetch failed";
}

/** "delete pods payments-7f9 in namespace shop" */
export function describeCall(s: CallSpec): string {
  return `${s.verb} ${s.resource}${s.name ? ` ${s.name}` : ""}${s.namespace ? ` in namespace ${s.namespace}` : ""}`;
}

/** The Status object's message and reason of an API error, whatever shape the client kept the body in. */
function statusBody(err: ApiException<unknown>): { message?: string; reason?: string } {
  let body: unknown = err.body;
  if (typeof err.body === "string") {
    const text = err.body;
    try {
      body = JSON.parse(text);
    } catch {
      return { message: text.slice(0, 200) || undefined };
    }
  }
  const b = (body ?? {}) as { message?: unknown; reason?: unknown };
  return {
    message: typeof b.message === "string" ? b.message : undefined,
    reason: typeof b.reason === "string" ? b.reason : undefined,
  };
}

/** Seconds (or an HTTP date) in Retry-After, as milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(
  headers: Record<string, string> | undefined,
  now = Date.now(),
): number | undefined {
  const value = headers?.["retry-after"] ?? headers?.["Retry-After"];
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function wrap(spec: CallSpec, err: unknown): KubeApiError {
  const what = describeCall(spec);
  if (isApiException(err)) {
    const status = err.code;
    const { message, reason } = statusBody(err);
    const detail = message ?? reason ?? "no message";
    if (status === 401) {
      return new KubeApiError(status, `kubernetes: ${what}: unauthorized (${detail})`, {
        cause: err,
        hint: "the kubeconfig's credentials were refused; refresh them or pick another context",
      });
    }
    if (status === 403) {
      return new KubeApiError(
        status,
        `kubernetes: forbidden to ${spec.verb} ${spec.resource}${spec.namespace ? ` in namespace ${spec.namespace}` : " (cluster-wide)"}: ${detail}`,
        {
          cause: err,
          hint: `grant the verb "${spec.verb}" on "${spec.resource}" to the account the toolkit runs as (see deploy/rbac.yaml)`,
        },
      );
    }
    return new KubeApiError(
      status,
      `kubernetes: ${what} failed with ${status}${reason ? ` ${reason}` : ""}: ${detail}`,
      {
        cause: err,
        hint:
          status >= 500 ? "the API server is failing; retry later" : "check the target and the experiment",
      },
    );
  }
  if (!isNetworkError(err)) {
    return new KubeApiError(
      undefined,
      `kubernetes: ${what}: unexpected answer: ${(err as Error)?.message ?? String(err)}`,
      {
        cause: err,
        hint: "the server at the kubeconfig's address may not be a Kubernetes API server",
      },
    );
  }
  const reason =
    (err as Error)?.cause instanceof Error
      ? ((err as Error).cause as Error).message
      : (err as Error)?.message;
  return new KubeApiError(
    undefined,
    `kubernetes: ${what}: the API server is unreachable: ${reason ?? String(err)}`,
    {
      cause: err,
      hint: "check that the cluster is up and the kubeconfig's server is reachable from here",
    },
  );
}

/**
 * Runs `fn` (one client call, given its request options) with a deadline per attempt and the caller's signal,
 * retrying 409, 429, 5xx and refused connections with exponential backoff or the server's Retry-After.
 * @throws KubeApiError (a ChaosError("agent")) naming the call: with the HTTP status when the server answered,
 * without it when the call timed out, was aborted, or the server could not be reached.
 */
export async function kubeCall<T>(
  spec: CallSpec,
  opts: CallOptions,
  fn: (options: RequestOptions) => Promise<T>,
): Promise<T> {
  const tries = opts.tries ?? TRIES;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal.aborted) {
      throw new KubeApiError(undefined, `kubernetes: ${describeCall(spec)} was cancelled`, {
        cause: opts.signal.reason,
        hint: "the run was aborted or the activity timed out",
      });
    }
    const deadline = AbortSignal.timeout(opts.timeoutMs);
    const signal = AbortSignal.any([opts.signal, deadline]);
    try {
      const answer = await fn(requestOptions(opts, signal));
      // Every answer the agent asks for is a JSON object, but for a log's text; the client hands anything
      // else (an HTML login page from a proxy, say) back as a string.
      if (opts.text ? typeof answer !== "string" : typeof answer !== "object" || answer === null)
        throw new UnexpectedAnswer(typeof answer);
      return answer;
    } catch (err) {
      if (deadline.aborted) {
        throw new KubeApiError(
          undefined,
          `kubernetes: ${describeCall(spec)}: no answer within ${opts.timeoutMs} ms`,
          {
            cause: err,
            hint: "the API server accepted the request but did not answer; check its health, or raise configuration.kubernetes.call-timeout",
          },
        );
      }
      if (opts.signal.aborted) continue; // reported as cancelled at the top of the loop
      const status = isApiException(err) ? err.code : undefined;
      // A 409 is worth retrying only as a write conflict; on create it means AlreadyExists, and on delete a
      // failed uid precondition (the pod was replaced): no retry changes either.
      const conflictOnly = status === 409 && spec.verb !== "patch" && spec.verb !== "update";
      const retriable = status === undefined ? isNetworkError(err) : RETRIED.has(status) && !conflictOnly;
      if (!retriable || attempt >= tries) throw wrap(spec, err);
      const backoff = FIRST_BACKOFF_MS * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
      const wait = retryAfterMs(isApiException(err) ? err.headers : undefined) ?? backoff;
      await sleep(Math.min(wait, MAX_WAIT_MS), opts.signal);
    }
  }
}

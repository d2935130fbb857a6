import type { Logger } from "pino";
import { BREAKER_STATE_VALUE, CircuitBreaker } from "./breaker.js";
import { type HttpResponse, NetworkError, request, TimeoutError } from "./http-client.js";
import type { ServiceMetrics } from "./metrics.js";
import type { Practices } from "./practices.js";
import { type RetryPolicy, withRetry } from "./retry.js";

/** How one service calls one upstream, when every practice is on. */
export interface UpstreamPolicy {
  /** Budget of one attempt. */
  attemptTimeoutMs: number;
  /** Budget of the whole call, retries included; no attempt starts after it. */
  deadlineMs: number;
  retry: RetryPolicy;
  /** Response statuses worth another attempt (e.g. 503); network errors and timeouts always are. */
  retryStatuses: readonly number[];
  /** Breaker settings; absent = this link has no breaker. */
  breaker?: { failureThreshold: number; openMs: number };
}

/** The upstream answered with a status that counts as a failure. */
export class UpstreamStatusError extends Error {
  constructor(
    readonly target: string,
    readonly response: HttpResponse,
  ) {
    super(`${target} answered ${response.status}`);
    this.name = "UpstreamStatusError";
  }
}

export interface Upstream {
  /**
   * POSTs JSON to the upstream under the link's practices. Statuses >= 500 count as failures.
   * @throws TimeoutError, NetworkError, UpstreamStatusError (status >= 500) or BreakerOpenError.
   */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<HttpResponse>;
  /** Whether a failure of this link may be answered by a fallback (the breaker practice is on). */
  readonly hasBreaker: boolean;
}

export interface UpstreamOptions {
  service: string;
  target: string;
  baseUrl: string;
  policy: UpstreamPolicy;
  practices: Practices;
  metrics: ServiceMetrics;
  log: Logger;
}

/**
 * Builds the client of one link. Each practice switched off removes exactly its part: no timeouts means no
 * attempt budget and no deadline; no retries means one attempt; no breaker means calls always go through.
 * Never throws.
 */
export function createUpstream(opts: UpstreamOptions): Upstream {
  const { service, target, policy, practices, metrics, log } = opts;
  const labels = { service, target };
  const breaker =
    practices.breaker && policy.breaker
      ? new CircuitBreaker({
          target,
          ...policy.breaker,
          onStateChange: (state) => {
            metrics.breakerState.set(labels, BREAKER_STATE_VALUE[state]);
            log.info({ target, state }, "circuit breaker state changed");
          },
        })
      : undefined;

  const attempt = async (url: string, body: unknown, headers: Record<string, string>, deadline: number) => {
    const timeoutMs = practices.timeouts
      ? Math.max(1, Math.min(policy.attemptTimeoutMs, deadline - Date.now()))
      : undefined;
    const response = await request(url, { method: "POST", body, headers, timeoutMs });
    if (response.status >= 500) throw new UpstreamStatusError(target, response);
    return response;
  };

  return {
    hasBreaker: breaker !== undefined,
    async post(path, body, headers = {}) {
      const url = `${opts.baseUrl}${path}`;
      const deadline = practices.timeouts ? Date.now() + policy.deadlineMs : Number.POSITIVE_INFINITY;
      const once = () => attempt(url, body, headers, deadline);
      return withRetry(() => (breaker ? breaker.run(once) : once()), {
        policy: practices.retries ? policy.retry : { ...policy.retry, maxAttempts: 1 },
        deadline,
        retryable: (error) =>
          error instanceof TimeoutError ||
          error instanceof NetworkError ||
          (error instanceof UpstreamStatusError && policy.retryStatuses.includes(error.response.status)),
        onRetry: (retry, delayMs, error) => {
          metrics.clientRetries.inc(labels);
          log.debug({ target, retry, delayMs: Math.round(delayMs), err: String(error) }, "retrying");
        },
      });
    },
  };
}

import { setTimeout as sleepFor } from "node:timers/promises";

/** Bounded attempts with exponential backoff; each wait is drawn with full jitter. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  maxAttempts: number;
  /** Ceiling of the wait before the first retry; it doubles for each further retry. */
  baseDelayMs: number;
  /** The ceiling never grows past this. */
  maxDelayMs: number;
}

/** The upper bound of the wait before retry number `retry` (1 = first retry): min(max, base·2^(retry-1)). */
export function backoffCeiling(retry: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
}

/**
 * The wait before retry number `retry` (1 = first retry) with full jitter: uniform in [0, ceiling).
 * Full jitter spreads the retries of many clients that failed together, so they do not return in a herd.
 * Never throws.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return random() * backoffCeiling(retry, policy);
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Whether this failure may be retried; errors it rejects are thrown at once. */
  retryable: (error: unknown) => boolean;
  /** Epoch ms after which no further attempt starts (the caller's overall budget). */
  deadline?: number;
  /** Told before each retry (for metrics and logs). */
  onRetry?: (retry: number, delayMs: number, error: unknown) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
  now?: () => number;
}

/**
 * Runs `attempt` until it resolves, the error is not retryable, the attempts are used up or the next wait
 * would end past the deadline.
 * @throws the last attempt's error when it gives up.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? sleepFor;
  const now = opts.now ?? Date.now;
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (attemptNumber >= opts.policy.maxAttempts || !opts.retryable(error)) throw error;
      const delay = backoffDelay(attemptNumber, opts.policy, random);
      if (opts.deadline !== undefined && now() + delay >= opts.deadline) throw error;
      opts.onRetry?.(attemptNumber, delay, error);
      await sleep(delay);
    }
  }
}

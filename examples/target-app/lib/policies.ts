import type { UpstreamPolicy } from "./upstream.js";

/**
 * The budgets of each link, nested so that an inner call always gives up before its caller does:
 * gateway call ≤ 600 ms < one payments attempt 1 s; orders' whole call ≤ 3 s < web's 4 s < loadgen's 10 s.
 * Retries live on two links only (orders→payments, payments→gateway); web does not retry, so one failure
 * is never multiplied by retries at every layer.
 */
export const POLICIES = {
  "web->orders": {
    attemptTimeoutMs: 4000,
    deadlineMs: 4000,
    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    retryStatuses: [],
  },
  /**
   * Retries spread over up to 3 s to outlast a payments restart by its supervisor (~0.3–0.8 s): with these
   * numbers the chance that every retry falls inside a 1 s outage is about 1 in 25,000.
   */
  "orders->payments": {
    attemptTimeoutMs: 1000,
    deadlineMs: 3000,
    retry: { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 1000 },
    retryStatuses: [503],
  },
  /** Short: a slow provider must not hold checkout; the breaker and its fallback take over. */
  "payments->gateway": {
    attemptTimeoutMs: 300,
    deadlineMs: 600,
    retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    retryStatuses: [502, 503, 504],
    breaker: { failureThreshold: 5, openMs: 2000 },
  },
  /**
   * The database stand-in (when payments has one): one short attempt; a record that cannot be written in
   * time goes to payments' outbox and is written later, so checkout never waits on the database.
   */
  "payments->db": {
    attemptTimeoutMs: 200,
    deadlineMs: 200,
    retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    retryStatuses: [],
  },
} satisfies Record<string, UpstreamPolicy>;

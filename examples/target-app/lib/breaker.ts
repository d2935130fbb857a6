/** closed: calls flow; open: calls are refused at once; half-open: one trial call decides. */
export type BreakerState = "closed" | "half-open" | "open";

/** The value of the `circuit_breaker_state` gauge for each state. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };

/** Thrown instead of calling when the breaker is open (or half-open with its trial call in flight). */
export class BreakerOpenError extends Error {
  constructor(readonly target: string) {
    super(`circuit breaker for ${target} is open`);
    this.name = "BreakerOpenError";
  }
}

export interface BreakerOptions {
  /** What the breaker guards, for errors and logs. */
  target: string;
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before it lets one trial call through. */
  openMs: number;
  onStateChange?: (state: BreakerState) => void;
  now?: () => number;
}

/**
 * A circuit breaker counting consecutive failures. Consecutive (not a ratio over a window) because a
 * window full of earlier successes would keep it closed for seconds after a dependency died.
 */
export class CircuitBreaker {
  private current: BreakerState = "closed";
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  /** Bumped on each state change, so that late results of calls started earlier are ignored. */
  private generation = 0;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The state now; an open breaker whose open period is over reads as half-open. Never throws. */
  get state(): BreakerState {
    if (this.current === "open" && this.now() - this.openedAt >= this.opts.openMs)
      this.transition("half-open");
    return this.current;
  }

  /**
   * Calls `fn` when the breaker allows it and records the outcome.
   * @throws BreakerOpenError without calling when open; otherwise whatever `fn` throws.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === "open" || (state === "half-open" && this.trialInFlight)) {
      throw new BreakerOpenError(this.opts.target);
    }
    const isTrial = state === "half-open";
    if (isTrial) this.trialInFlight = true;
    const generation = this.generation;
    try {
      const result = await fn();
      this.record(true, generation, isTrial);
      return result;
    } catch (error) {
      this.record(false, generation, isTrial);
      throw error;
    } finally {
      if (isTrial) this.trialInFlight = false;
    }
  }

  private record(ok: boolean, generation: number, isTrial: boolean): void {
    if (generation !== this.generation && !isTrial) return;
    if (ok) {
      this.failures = 0;
      if (this.current !== "closed") this.transition("closed");
      return;
    }
    this.failures++;
    if (isTrial || this.failures >= this.opts.failureThreshold) {
      this.openedAt = this.now();
      this.transition("open");
    }
  }

  private transition(state: BreakerState): void {
    if (state === this.current && state !== "open") return;
    this.current = state;
    this.generation++;
    if (state === "closed") this.failures = 0;
    this.opts.onStateChange?.(state);
  }
}

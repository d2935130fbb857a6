import { describe, expect, it } from "vitest";
import { BreakerOpenError, type BreakerState, CircuitBreaker } from "./breaker.js";

function setup() {
  let clock = 1_000;
  const changes: BreakerState[] = [];
  const breaker = new CircuitBreaker({
    target: "gateway",
    failureThreshold: 3,
    openMs: 2000,
    now: () => clock,
    onStateChange: (state) => changes.push(state),
  });
  let calls = 0;
  const ok = () => breaker.run(async () => ++calls);
  const fail = () =>
    breaker.run(async () => {
      calls++;
      throw new Error("gateway down");
    });
  return {
    breaker,
    changes,
    ok,
    fail,
    calls: () => calls,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe("CircuitBreaker", () => {
  it("opens after consecutive failures and then refuses calls without making them", async () => {
    const b = setup();
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toThrow("gateway down");
    expect(b.breaker.state).toBe("open");
    await expect(b.ok()).rejects.toBeInstanceOf(BreakerOpenError);
    expect(b.calls()).toBe(3);
    expect(b.changes).toEqual(["open"]);
  });

  it("stays closed when a success breaks the run of failures", async () => {
    const b = setup();
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    await b.ok();
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    expect(b.breaker.state).toBe("closed");
  });

  it("turns half-open after the open period and lets a single trial call through", async () => {
    const b = setup();
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toThrow();
    b.advance(1999);
    expect(b.breaker.state).toBe("open");
    b.advance(1);
    expect(b.breaker.state).toBe("half-open");
    let release: () => void = () => {};
    const trial = b.breaker.run(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(b.ok()).rejects.toBeInstanceOf(BreakerOpenError);
    release();
    await trial;
    expect(b.breaker.state).toBe("closed");
    expect(b.changes).toEqual(["open", "half-open", "closed"]);
    await b.ok();
  });

  it("opens again at once when the trial call fails", async () => {
    const b = setup();
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toThrow();
    b.advance(2000);
    await expect(b.fail()).rejects.toThrow("gateway down");
    expect(b.breaker.state).toBe("open");
    await expect(b.ok()).rejects.toBeInstanceOf(BreakerOpenError);
    b.advance(2000);
    expect(b.breaker.state).toBe("half-open");
    expect(b.changes).toEqual(["open", "half-open", "open", "half-open"]);
  });

  it("ignores late failures of calls started before it opened", async () => {
    const b = setup();
    const rejecters: Array<() => void> = [];
    const slow = Array.from({ length: 5 }, () =>
      b.breaker.run(() => new Promise((_, reject) => rejecters.push(() => reject(new Error("late"))))),
    );
    for (const reject of rejecters) reject();
    await Promise.allSettled(slow);
    expect(b.changes).toEqual(["open"]);
  });
});

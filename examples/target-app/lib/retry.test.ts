import { describe, expect, it } from "vitest";
import { backoffCeiling, backoffDelay, type RetryPolicy, withRetry } from "./retry.js";

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
const noSleep = () => Promise.resolve();

describe("backoff", () => {
  it("doubles the ceiling from the base for each retry and stops at the cap", () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffCeiling(retry, policy))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it("draws each wait with full jitter: anywhere from zero up to the ceiling", () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelay(3, policy, () => 0.999_999)).toBeLessThan(400);
    const samples = Array.from({ length: 2000 }, () => backoffDelay(3, policy));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(400);
    // Spread over the whole range, not bunched near the ceiling as with "equal jitter".
    expect(samples.some((delay) => delay < 40)).toBe(true);
    expect(samples.some((delay) => delay > 360)).toBe(true);
  });
});

describe("withRetry", () => {
  it("retries failures until an attempt succeeds, telling each retry and its wait", async () => {
    const told: Array<[number, number]> = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new Error(`fail ${calls}`);
        return "paid";
      },
      {
        policy,
        retryable: () => true,
        sleep: noSleep,
        random: () => 0.5,
        onRetry: (r, d) => told.push([r, d]),
      },
    );
    expect(result).toBe("paid");
    expect(calls).toBe(3);
    expect(told).toEqual([
      [1, 50],
      [2, 100],
    ]);
  });

  it("gives up after the maximum attempts and throws the last error", async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      },
      { policy, retryable: () => true, sleep: noSleep },
    );
    await expect(run).rejects.toThrow("fail 5");
    expect(calls).toBe(5);
  });

  it("does not retry an error that is not retryable", async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw new Error("declined");
      },
      { policy, retryable: () => false, sleep: noSleep },
    );
    await expect(run).rejects.toThrow("declined");
    expect(calls).toBe(1);
  });

  it("stops when the next wait would end past the deadline", async () => {
    let clock = 0;
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      },
      {
        policy,
        retryable: () => true,
        random: () => 0.999,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
        deadline: 350,
      },
    );
    // Waits of ~100 and ~200 ms fit in 350 ms; the third (~400 ms) would not.
    await expect(run).rejects.toThrow("fail 3");
    expect(calls).toBe(3);
  });

  it("really waits between attempts when given no sleep function", async () => {
    const started = Date.now();
    let calls = 0;
    await withRetry(
      async () => {
        calls++;
        if (calls < 2) throw new Error("once");
      },
      { policy: { maxAttempts: 2, baseDelayMs: 40, maxDelayMs: 40 }, retryable: () => true, random: () => 1 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });
});

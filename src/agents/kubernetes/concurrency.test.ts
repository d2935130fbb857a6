import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { mapLimit } from "./concurrency.js";

describe("mapLimit", () => {
  it("never has more than the limit in flight, and keeps the input order", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await sleep(n * 3);
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it("stops starting new work at the first failure and throws it once the rest in flight settled", async () => {
    const started: number[] = [];
    let settled = 0;
    const err = await mapLimit([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await sleep(n === 1 ? 1 : 20);
      settled++;
      if (n === 1) throw new Error("boom");
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe("boom");
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(2);
  });
});

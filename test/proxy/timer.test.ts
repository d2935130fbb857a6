import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { later, MAX_TIMER_MS } from "../../src/proxy/toxics/timer.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("long toxic timers", () => {
  it("wait past Node's 2^31 − 1 ms limit in steps, firing once at the right time", () => {
    const fn = vi.fn();
    later(fn, 3 * MAX_TIMER_MS + 5000);
    vi.advanceTimersByTime(3 * MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(4999);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("can be cleared between steps", () => {
    const fn = vi.fn();
    const timer = later(fn, MAX_TIMER_MS + 10);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    timer.clear();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
  });

  it("take a long wait in two steps that end at its due time, and can be cleared in the last one", () => {
    const fn = vi.fn();
    later(fn, 1000);
    vi.advanceTimersByTime(999);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);

    const cleared = vi.fn();
    const timer = later(cleared, 1000);
    vi.advanceTimersByTime(995);
    timer.clear();
    vi.advanceTimersByTime(1000);
    expect(cleared).not.toHaveBeenCalled();
  });

  it("never fire when the delay is infinite", () => {
    const fn = vi.fn();
    later(fn, Number.POSITIVE_INFINITY);
    vi.advanceTimersByTime(10 * MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
  });
});

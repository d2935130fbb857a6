/** The longest delay Node's timers take; a longer one overflows and fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Waits longer than this are taken in two steps. The kernel lets a long sleep overrun by about 0.1 % of
 * its length (timer slack on the event loop's poll), so a single setTimeout(1000) fires ~1-2 ms late.
 */
const SPLIT_ABOVE_MS = 20;
/** The last step of a split wait: short enough for its slack to stay in the microseconds. */
const LAST_STEP_MS = 10;
// Node's timers count whole milliseconds and drop the fraction (setTimeout(9.99) fires after ~9.2 ms), so a
// step is armed for a whole number: the first rounded down, the last to the nearest.

export interface Timer {
  clear(): void;
}

/**
 * Calls `fn` after `ms` milliseconds, however long that is. A long wait is armed to end `LAST_STEP_MS`
 * early, then re-armed for what is left, so that it ends as accurately as a short one (within about half
 * a millisecond, scheduling aside). Delays past Node's limit (about 24.8 days) are waited in steps, so a
 * toxic asked to wait months waits months instead of firing at once. An infinite delay never fires.
 * `clear()` cancels whichever step is pending. Never throws.
 */
export function later(fn: () => void, ms: number): Timer {
  const due = performance.now() + ms;
  let handle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = due - performance.now();
    handle =
      left > SPLIT_ABOVE_MS
        ? setTimeout(arm, Math.min(Math.floor(left) - LAST_STEP_MS, MAX_TIMER_MS))
        : setTimeout(fn, Math.max(0, Math.round(left)));
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}

/** The longest delay Node's timers take; a longer one overflows and fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Timer {
  clear(): void;
}

/**
 * Calls `fn` after `ms` milliseconds, however long that is: delays past Node's limit (about 24.8 days)
 * are waited in steps, so a toxic asked to wait months waits months instead of firing at once. An
 * infinite delay never fires. Never throws.
 */
export function later(fn: () => void, ms: number): Timer {
  const due = performance.now() + ms;
  let handle: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = due - performance.now();
    handle = setTimeout(
      () => (left > MAX_TIMER_MS ? arm() : fn()),
      Math.min(Math.max(0, left), MAX_TIMER_MS),
    );
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}

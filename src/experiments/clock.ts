/** Waits `ms`, or less if `signal` aborts first; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} timed out after ${ms}ms`);
  }
}

/**
 * Runs `work` with a deadline: `controller` is aborted when the deadline passes so the work can stop.
 * @throws TimeoutError when the deadline passes first; otherwise whatever `work` throws.
 */
export async function withDeadline<T>(
  what: string,
  ms: number | undefined,
  controller: AbortController,
  work: () => Promise<T>,
): Promise<T> {
  if (!ms) return work();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new TimeoutError(what, ms);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `tick` now and then every `everyMs` until stopped; a tick never overlaps the previous one. */
export function every(everyMs: number, tick: () => Promise<void>): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    if (stopped) return;
    const started = Date.now();
    running = tick().finally(() => {
      if (!stopped) timer = setTimeout(loop, Math.max(0, everyMs - (Date.now() - started)));
    });
  };
  loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running.catch(() => {});
    },
  };
}

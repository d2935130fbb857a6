import { TimedQueue } from "./timed-queue.js";
import type { ToxicKind } from "./toxic.js";

/** Delays every chunk by `latency` ± `jitter` milliseconds, keeping the order of the data. */
export const latency: ToxicKind = {
  goType: "LatencyToxic",
  defaults: { latency: 0, jitter: 0 },
  create({ latency = 0, jitter = 0 }, out) {
    const queue = new TimedQueue(out);
    const delay = (): number => {
      const spread = jitter > 0 ? Math.floor(Math.random() * jitter * 2) - jitter : 0;
      return Math.max(0, latency + spread);
    };
    return {
      write: (chunk) => queue.add(chunk, performance.now() + delay()),
      end: () => queue.end(),
      get buffered() {
        return queue.buffered;
      },
      detach: () => queue.detach(),
    };
  },
};

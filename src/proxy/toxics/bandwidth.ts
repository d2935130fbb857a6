import { TimedQueue } from "./timed-queue.js";
import type { ToxicKind } from "./toxic.js";

/**
 * Caps throughput at `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy counts). Large chunks go out in slices
 * of 100 ms worth of data so the stream stays smooth instead of bursting. A rate of 0 lets nothing
 * through: data is held (the source pauses under back-pressure) until the toxic changes or goes.
 */
export const bandwidth: ToxicKind = {
  goType: "BandwidthToxic",
  defaults: { rate: 0 },
  validate: ({ rate = 0 }) => (rate < 0 ? `rate must be 0 or more (KB/s), not ${rate}` : undefined),
  create({ rate = 0 }, out) {
    const queue = new TimedQueue(out);
    const slice = rate * 100; // bytes per 100 ms
    return {
      write(chunk) {
        if (rate <= 0) {
          queue.add(chunk, Number.POSITIVE_INFINITY);
          return;
        }
        let due = Math.max(queue.lastDue, performance.now());
        for (let at = 0; at < chunk.length; at += slice) {
          const piece = chunk.subarray(at, at + slice);
          due += piece.length / rate; // rate bytes per millisecond
          queue.add(piece, due);
        }
      },
      end: () => queue.end(),
      get buffered() {
        return queue.buffered;
      },
      detach: () => queue.detach(),
    };
  },
};

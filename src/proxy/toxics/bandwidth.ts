import { TimedQueue } from "./timed-queue.js";
import type { ToxicKind } from "./toxic.js";

/**
 * Caps throughput at `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy counts). Large chunks go out in slices
 * of 100 ms worth of data so the stream stays smooth instead of bursting.
 */
export const bandwidth: ToxicKind = {
  goType: "BandwidthToxic",
  defaults: { rate: 0 },
  create({ rate = 0 }, out) {
    const queue = new TimedQueue(out);
    const slice = rate * 100; // bytes per 100 ms
    return {
      write(chunk) {
        if (rate <= 0) {
          queue.add(chunk, performance.now());
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

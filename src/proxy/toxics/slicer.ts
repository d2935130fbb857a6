import { TimedQueue } from "./timed-queue.js";
import type { ToxicKind } from "./toxic.js";

/**
 * Cuts data into pieces of about `average_size` ± `size_variation` bytes, with `delay` microseconds before
 * each piece, so the peer sees many small reads.
 */
export const slicer: ToxicKind = {
  goType: "SlicerToxic",
  defaults: { average_size: 0, size_variation: 0, delay: 0 },
  create({ average_size = 0, size_variation = 0, delay = 0 }, out) {
    const queue = new TimedQueue(out);
    const gap = Math.max(0, delay) / 1000;
    const size = (): number => {
      const spread = size_variation > 0 ? Math.floor(Math.random() * size_variation * 2) - size_variation : 0;
      return Math.max(1, average_size + spread);
    };
    return {
      write(chunk) {
        let due = Math.max(queue.lastDue, performance.now());
        if (average_size <= 0) {
          queue.add(chunk, due + gap);
          return;
        }
        for (let at = 0; at < chunk.length; ) {
          const piece = chunk.subarray(at, at + size());
          at += piece.length;
          due += gap;
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

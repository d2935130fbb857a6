import { later, type Timer } from "./timer.js";
import type { Held, ToxicKind } from "./toxic.js";

/** A chunk being sliced: the byte ranges still to send, the leftmost on top. null is the end of the stream. */
interface Pending {
  chunk: Buffer | null;
  ranges: [number, number][];
}

/**
 * Cuts each chunk as Toxiproxy's slicer does: a range longer than `average_size` + `size_variation` is
 * halved (± up to `size_variation`) again and again, so 1000 bytes at an average of 100 become 16 pieces of
 * 62–63 bytes. Each piece goes out on its own, followed by a pause of `delay` microseconds, before the next
 * piece (or the next chunk). Ranges are split lazily, so a large chunk costs no more than its pieces in
 * flight.
 */
export const slicer: ToxicKind = {
  goType: "SlicerToxic",
  defaults: { average_size: 0, size_variation: 0, delay: 0 },
  validate({ average_size = 0, size_variation = 0 }) {
    if (average_size <= 0) return `average_size must be greater than 0, not ${average_size}`;
    if (size_variation < 0) return `size_variation must be 0 or more, not ${size_variation}`;
    if (size_variation > average_size)
      return `size_variation (${size_variation}) must not be greater than average_size (${average_size})`;
    return undefined;
  },
  create({ average_size = 1, size_variation = 0, delay = 0 }, out) {
    const gap = Math.max(0, delay) / 1000;
    const queue: Pending[] = [];
    let buffered = 0;
    let readyAt = 0;
    let timer: Timer | undefined;
    let immediate: NodeJS.Immediate | undefined;

    /** The next piece of the head chunk, splitting its leftmost range until it is small enough. */
    const nextPiece = (pending: Pending & { chunk: Buffer }): Buffer => {
      for (;;) {
        const [start, end] = pending.ranges.pop()!;
        if (end - start - average_size <= size_variation) return pending.chunk.subarray(start, end);
        const spread =
          size_variation > 0 ? Math.floor(Math.random() * size_variation * 2) - size_variation : 0;
        const mid = start + Math.floor((end - start) / 2) + spread;
        pending.ranges.push([mid, end], [start, mid]);
      }
    };

    const schedule = (): void => {
      if (timer || immediate || queue.length === 0) return;
      const wait = readyAt - performance.now();
      // Below a millisecond timers are too coarse; the next turn of the event loop still sends each
      // piece on its own.
      if (wait < 1) immediate = setImmediate(pump);
      else timer = later(pump, wait);
    };

    const pump = (): void => {
      timer = undefined;
      immediate = undefined;
      const head = queue[0];
      if (!head || performance.now() < readyAt - 0.05) {
        schedule();
        return;
      }
      if (head.chunk === null) {
        queue.shift();
        out.end();
        return;
      }
      const piece = nextPiece(head as Pending & { chunk: Buffer });
      if (head.ranges.length === 0) queue.shift();
      buffered -= piece.length;
      if (piece.length > 0) out.push(piece);
      readyAt = performance.now() + gap;
      out.relieved();
      schedule();
    };

    return {
      write(chunk) {
        queue.push({ chunk, ranges: [[0, chunk.length]] });
        buffered += chunk.length;
        schedule();
      },
      end() {
        queue.push({ chunk: null, ranges: [] });
        schedule();
      },
      get buffered() {
        return buffered;
      },
      detach(): Held {
        timer?.clear();
        if (immediate) clearImmediate(immediate);
        const held: Held = { chunks: [], ended: false };
        for (const { chunk, ranges } of queue.splice(0)) {
          if (chunk === null) held.ended = true;
          else held.chunks.push(chunk.subarray(ranges.at(-1)?.[0] ?? chunk.length));
        }
        buffered = 0;
        return held;
      },
    };
  },
};

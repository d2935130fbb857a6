import { later, type Timer } from "./timer.js";
import type { Held, ToxicOutput } from "./toxic.js";

/** Timers fire on whole milliseconds; an item due within this margin goes out now rather than 1 ms late. */
const EARLY_MS = 0.25;

interface Item {
  chunk: Buffer | null; // null is the end of the stream
  due: number;
}

/**
 * A FIFO of chunks, each released at its due time (performance.now() milliseconds), in order: an item
 * never overtakes the one before it. The shared engine of the toxics that delay data.
 */
export class TimedQueue {
  buffered = 0;
  private items: Item[] = [];
  private head = 0;
  private timer: Timer | undefined;
  private last = 0;

  constructor(private readonly out: ToxicOutput) {}

  /** The due time of the latest item queued (or 0), for toxics whose delays add up. */
  get lastDue(): number {
    return this.head < this.items.length ? this.last : 0;
  }

  add(chunk: Buffer | null, due: number): void {
    this.items.push({ chunk, due });
    this.last = due;
    if (chunk) this.buffered += chunk.length;
    if (this.items.length - this.head === 1) this.release();
  }

  /** Queues the end of the stream behind everything already queued. */
  end(): void {
    this.add(null, Math.max(this.lastDue, performance.now()));
  }

  detach(): Held {
    this.timer?.clear();
    this.timer = undefined;
    const chunks: Buffer[] = [];
    let ended = false;
    for (const item of this.items.slice(this.head)) {
      if (item.chunk) chunks.push(item.chunk);
      else ended = true;
    }
    this.items = [];
    this.head = 0;
    this.buffered = 0;
    return { chunks, ended };
  }

  private readonly release = (): void => {
    this.timer = undefined;
    const now = performance.now();
    let released = 0;
    while (this.head < this.items.length) {
      const head = this.items[this.head]!;
      if (head.due > now + EARLY_MS) break;
      this.head++;
      if (head.chunk) {
        this.buffered -= head.chunk.length;
        released += head.chunk.length;
        this.out.push(head.chunk);
      } else {
        this.out.end();
      }
    }
    // Drop released items in one go, not one shift() each: a slicer may queue thousands.
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    const next = this.items[this.head];
    if (next) this.timer = later(this.release, Math.max(1, Math.ceil(next.due - now)));
    if (released > 0) this.out.relieved();
  };
}

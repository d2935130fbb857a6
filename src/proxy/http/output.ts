import { later, type Timer } from "../toxics/timer.js";
import type { Held, ToxicOutput } from "../toxics/toxic.js";

interface Item {
  due: number;
  chunk?: Buffer;
  /** Runs when its turn comes (an abort); an item with neither is the end of the stream. */
  run?: () => void;
}

/**
 * A FIFO in front of a stage's output: chunks, the end, or an action, each going out at its due time
 * (performance.now() ms, 0 = now) but never before the item ahead of it. With nothing queued and
 * nothing due later, a chunk goes straight out: the path of a message no toxic holds costs no timer.
 */
export class OrderedOutput {
  buffered = 0;
  private items: Item[] = [];
  private head = 0;
  private timer: Timer | undefined;
  private ended = false;

  constructor(private readonly out: ToxicOutput) {}

  push(chunk: Buffer, due = 0): void {
    if (chunk.length === 0) return;
    if (this.ready(due)) this.out.push(chunk);
    else {
      this.buffered += chunk.length;
      this.queue({ due, chunk });
    }
  }

  /** Runs `run` once everything ahead went out, not before `due`. */
  schedule(run: () => void, due = 0): void {
    if (this.ready(due)) run();
    else this.queue({ due, run });
  }

  end(due = 0): void {
    if (this.ended) return;
    this.ended = true;
    if (this.ready(due)) this.out.end();
    else this.queue({ due });
  }

  detach(): Held {
    this.timer?.clear();
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.buffered = 0;
    return {
      chunks: rest.flatMap((i) => (i.chunk ? [i.chunk] : [])),
      ended: rest.some((i) => !i.chunk && !i.run),
    };
  }

  private ready(due: number): boolean {
    return this.head === this.items.length && (due === 0 || due <= performance.now());
  }

  private queue(item: Item): void {
    this.items.push(item);
    if (this.items.length - this.head === 1) this.release();
  }

  private readonly release = (): void => {
    this.timer = undefined;
    const now = performance.now();
    let released = false;
    while (this.head < this.items.length) {
      const item = this.items[this.head]!;
      if (item.due > now + 0.25) break;
      this.head++;
      if (item.chunk) {
        this.buffered -= item.chunk.length;
        released = true;
        this.out.push(item.chunk);
      } else if (item.run) item.run();
      else this.out.end();
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    const next = this.items[this.head];
    if (next) this.timer = later(this.release, Math.max(1, Math.ceil(next.due - now)));
    if (released) this.out.relieved();
  };
}

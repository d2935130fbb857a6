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
 *
 * Chunks that go straight out and lie next to each other in memory (the head and the body of a message
 * read at once, handed on as two slices of one read) are joined into one until `flush`, so that they
 * cost one write to the socket, not one each: a write on loopback costs more than the whole HTTP stage.
 */
export class OrderedOutput {
  buffered = 0;
  private items: Item[] = [];
  private head = 0;
  private timer: Timer | undefined;
  private ended = false;
  /** Bytes ready to go that the next chunk may still extend; handed on by `flush`. */
  private run: Buffer | null = null;

  constructor(private readonly out: ToxicOutput) {}

  push(chunk: Buffer, due = 0): void {
    if (chunk.length === 0) return;
    if (this.ready(due)) {
      const run = this.run;
      if (run && run.buffer === chunk.buffer && run.byteOffset + run.length === chunk.byteOffset) {
        this.run = Buffer.from(run.buffer, run.byteOffset, run.length + chunk.length);
      } else {
        if (run) this.out.push(run);
        this.run = chunk;
      }
    } else {
      this.flush();
      this.buffered += chunk.length;
      this.queue({ due, chunk });
    }
  }

  /** Hands on the chunks joined so far; the owner calls it once it has handled a read. */
  flush(): void {
    const run = this.run;
    if (run === null) return;
    this.run = null;
    this.out.push(run);
  }

  /** Runs `run` once everything ahead went out, not before `due`. */
  schedule(run: () => void, due = 0): void {
    this.flush();
    if (this.ready(due)) run();
    else this.queue({ due, run });
  }

  end(due = 0): void {
    if (this.ended) return;
    this.ended = true;
    this.flush();
    if (this.ready(due)) this.out.end();
    else this.queue({ due });
  }

  detach(): Held {
    this.timer?.clear();
    const rest = this.items.slice(this.head);
    const run = this.run;
    this.run = null;
    this.items = [];
    this.head = 0;
    this.buffered = 0;
    const chunks = rest.flatMap((i) => (i.chunk ? [i.chunk] : []));
    return {
      chunks: run ? [run, ...chunks] : chunks,
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
    this.flush();
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

import type { Socket } from "node:net";
import { readIntoOwnBuffers } from "./socket-reads.js";
import type { Attributes, Held, ToxicKind, ToxicOutput, ToxicStage } from "./toxics/toxic.js";

export type Direction = "upstream" | "downstream";

/** A toxic as one direction of a connection needs it. */
export interface ToxicSpec {
  name: string;
  kind: ToxicKind;
  attributes: Attributes;
  toxicity: number;
}

/** What a toxic may do to the whole connection. */
export interface ConnectionControl {
  /** Closes both sockets once flushed (with a TCP RST when `lingerZero`). */
  close(): void;
  /** Aborts both sockets with a TCP RST. */
  reset(): void;
  /** The sockets close with a RST, as Toxiproxy's SO_LINGER 0 when a reset_peer toxic was there at the start. */
  readonly lingerZero: boolean;
}

export interface ByteCounters {
  received: number;
  sent: number;
}

/** Past this many bytes held by toxics, the source is paused until they drain. */
const HELD_LIMIT = 1 << 20;
/** Past this many bytes of its own chunks queued in the sink socket, the source is paused until they drain. */
const SINK_LIMIT = 64 << 10;
/** The read buffer of a link starts small: most connections carry small messages. */
const FIRST_READ_BUFFER = 16 << 10;
/**
 * Once a read fills the small buffer, bulk data is flowing: reading (and so writing) up to this much per
 * system call costs the proxy less than half the CPU per byte of Node's 64 KiB reads (see bench/proxy.ts).
 */
const BULK_READ_BUFFER = 1 << 20;

interface Entry {
  spec: ToxicSpec;
  /** null when this connection's toxicity draw left the toxic out. */
  stage: ToxicStage | null;
  state: Record<string, number>;
  /** The next entry with a stage, or null for the sink. */
  next: Entry | null;
}

/** Orders the reads of every link: which side of a connection spoke last. */
let readClock = 0;

/**
 * One direction of a proxied connection: source socket ▶ toxic stages ▶ sink socket. Without any stage
 * in the chain, chunks go straight from the source to the sink. Back-pressure: the source is paused while
 * the sink's queue or the bytes held by stages exceed their limits.
 *
 * The source reads into one buffer of the link's own, reused for every read (no allocation per chunk).
 * That is safe because a read is handled before the next one: without stages it is written to the sink,
 * and if the kernel did not take it all at once, the source stays paused until the sink has flushed it;
 * with stages, which may hold chunks, it is copied first.
 */
export class Link {
  private readonly entries: Entry[] = [];
  private first: Entry | null = null;
  private sinkFull = false;
  private paused = false;
  private readBuffer = Buffer.allocUnsafe(FIRST_READ_BUFFER);
  /** A stage ahead of every toxic, for the rest of the link's life once set (the HTTP stage), or null. */
  private front: ToxicStage | null = null;
  /** When this link last read from its source, on a clock shared by every link (0: never). */
  lastRead = 0;
  /** Called before each read is handled, while set (a connection waiting to engage its HTTP stage). */
  beforeRead: (() => void) | null = null;

  /** `front`, when given, builds a stage placed ahead of the toxics; it stays when toxics change. */
  constructor(
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly control: ConnectionControl,
    private readonly counters: ByteCounters,
    toxics: readonly ToxicSpec[],
    front?: (out: ToxicOutput) => ToxicStage,
  ) {
    for (const spec of toxics) this.entries.push(this.newEntry(spec));
    if (front) this.setFront(front);
    this.rewire();
    if (!readIntoOwnBuffers(source, this.nextReadBuffer, this.onRead)) source.on("data", this.onData);
    source.on("end", this.onEnd);
  }

  /** Places a stage ahead of every toxic from the next read on; a link has at most one. */
  setFront(front: (out: ToxicOutput) => ToxicStage): void {
    if (this.front) return;
    this.front = front({
      push: (chunk) => this.deliver(this.first, chunk),
      end: () => this.deliverEnd(this.first),
      close: () => this.control.close(),
      relieved: () => this.checkPressure(),
    });
  }

  addToxic(spec: ToxicSpec): void {
    this.entries.push(this.newEntry(spec));
    this.rewire();
  }

  /** Rebuilds the toxic's stage with new attributes (and a new toxicity draw); held data stays in order. */
  updateToxic(spec: ToxicSpec): void {
    const entry = this.entries.find((e) => e.spec.name === spec.name);
    if (!entry) return;
    const held = entry.stage?.detach();
    entry.spec = spec;
    entry.stage = this.newStage(entry);
    this.rewire();
    if (held) this.replay(entry.stage ? entry : entry.next, held);
  }

  removeToxic(name: string): void {
    const at = this.entries.findIndex((e) => e.spec.name === name);
    const entry = this.entries[at];
    if (!entry) return;
    const held = entry.stage?.detach();
    entry.stage = null;
    this.entries.splice(at, 1);
    this.rewire();
    if (held) this.replay(this.nextActive(at), held);
    if (entry.spec.kind.closesOnRemoval) this.control.close();
  }

  private newEntry(spec: ToxicSpec): Entry {
    const entry: Entry = { spec, stage: null, state: spec.kind.newState?.() ?? {}, next: null };
    entry.stage = this.newStage(entry);
    return entry;
  }

  /** Draws the toxicity for this connection; a toxic that loses the draw has no stage. */
  private newStage(entry: Entry): ToxicStage | null {
    const { kind, attributes, toxicity } = entry.spec;
    if (!(Math.random() < toxicity)) return null;
    let stage: ToxicStage | null = null;
    // Emissions of a stage that was since detached or replaced are ignored.
    const live = (): boolean => stage !== null && entry.stage === stage;
    const out: ToxicOutput = {
      push: (chunk) => {
        if (live()) this.deliver(entry.next, chunk);
      },
      end: () => {
        if (live()) this.deliverEnd(entry.next);
      },
      close: () => {
        if (live()) this.control.close();
      },
      relieved: () => this.checkPressure(),
    };
    stage = kind.create(attributes, out, entry.state);
    return stage;
  }

  private nextActive(from: number): Entry | null {
    for (let i = from; i < this.entries.length; i++) if (this.entries[i]!.stage) return this.entries[i]!;
    return null;
  }

  private rewire(): void {
    this.entries.forEach((entry, i) => {
      entry.next = this.nextActive(i + 1);
    });
    this.first = this.nextActive(0);
    this.checkPressure();
  }

  private replay(target: Entry | null, held: Held): void {
    for (const chunk of held.chunks) this.deliver(target, chunk);
    if (held.ended) this.deliverEnd(target);
    this.checkPressure();
  }

  private deliver(target: Entry | null, chunk: Buffer): void {
    if (target) target.stage!.write(chunk);
    else this.toSink(chunk);
  }

  /** At the sink, the end is a half-close; with linger 0 Toxiproxy closes the socket, so a RST. */
  private deliverEnd(target: Entry | null): void {
    if (target) target.stage!.end();
    else if (this.control.lingerZero) this.control.reset();
    else if (!this.sink.destroyed) this.sink.end();
  }

  /**
   * Writes a chunk to the sink. `reused` says the chunk lives in the read buffer: the source then pauses
   * while any of it is still queued, since the next read would overwrite it.
   */
  private toSink(chunk: Buffer, reused = false): void {
    const sink = this.sink;
    if (sink.writableEnded || sink.destroyed) return;
    this.counters.sent += chunk.length;
    sink.write(chunk, this.onWritten);
    if (sink.writableLength > (reused ? 0 : SINK_LIMIT)) {
      this.sinkFull = true;
      this.pause();
    }
  }

  private readonly onRead = (length: number, buffer: Buffer): void => {
    this.counters.received += length;
    if (this.beforeRead) this.beforeRead();
    this.lastRead = ++readClock;
    const first = this.front ?? this.first?.stage ?? null;
    if (first === null) {
      this.toSink(buffer.subarray(0, length), true);
    } else {
      first.write(Buffer.from(buffer.subarray(0, length)));
      this.checkPressure();
    }
    if (length === buffer.length && length < BULK_READ_BUFFER) {
      // Only the next reads go to the larger buffer; a queued write may still point into this one.
      this.readBuffer = Buffer.allocUnsafe(BULK_READ_BUFFER);
    }
  };

  private readonly nextReadBuffer = (): Buffer => this.readBuffer;

  /** Fallback where the source cannot read into the link's buffer: each chunk is its own. */
  private readonly onData = (chunk: Buffer): void => {
    this.counters.received += chunk.length;
    if (this.beforeRead) this.beforeRead();
    this.lastRead = ++readClock;
    const first = this.front ?? this.first?.stage ?? null;
    if (first === null) {
      this.toSink(chunk);
    } else {
      first.write(chunk);
      this.checkPressure();
    }
  };

  private readonly onEnd = (): void => {
    if (this.front) this.front.end();
    else this.deliverEnd(this.first);
  };

  /** Runs after each write to the sink; once its queue is empty, no queued chunk points into a read buffer. */
  private readonly onWritten = (): void => {
    if (this.sinkFull && this.sink.writableLength === 0) {
      this.sinkFull = false;
      this.checkPressure();
    }
  };

  private checkPressure(): void {
    let held = this.front?.buffered ?? 0;
    for (let e = this.first; e; e = e.next) held += e.stage!.buffered;
    if (this.sinkFull || held > HELD_LIMIT) this.pause();
    else if (this.paused) {
      this.paused = false;
      this.source.resume();
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.source.pause();
  }
}

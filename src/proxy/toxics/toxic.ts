/**
 * A toxic is one stage of a one-way pipeline between the two sockets of a proxied connection:
 *
 *   source socket ──chunk──▶ [stage] ──▶ [stage] ──▶ … ──▶ sink socket
 *                  ──end───▶                                (half-close)
 *
 * A stage receives chunks (`write`) and the end of the stream (`end`), and hands on what it lets through
 * to its `ToxicOutput`. Stages are created per connection and direction, so they may keep state. A
 * direction without any stage skips the chain entirely (see link.ts).
 */
export interface ToxicOutput {
  push(chunk: Buffer): void;
  end(): void;
  /** Closes the whole connection once what was pushed is flushed (like a peer closing its socket). */
  close(): void;
  /** Aborts the whole connection with a TCP RST. */
  reset(): void;
  /** Tells the link that the stage now holds fewer bytes, so a paused source may resume. */
  relieved(): void;
}

/** What a removed or replaced stage still held, oldest first. */
export interface Held {
  chunks: Buffer[];
  ended: boolean;
}

export interface ToxicStage {
  write(chunk: Buffer): void;
  end(): void;
  /** Bytes the stage holds; counted against the link's back-pressure limit. */
  readonly buffered: number;
  /** Stops the stage (timers included) and hands back what it still holds, so nothing is lost. */
  detach(): Held;
}

/** Integer attributes of a toxic, in the order Toxiproxy prints them. */
export type Attributes = Record<string, number>;

/** One toxic type: its attributes with their defaults, and how to build a stage for one connection. */
export interface ToxicKind {
  /** The Go struct name, used in decoding error messages (`LatencyToxic`). */
  goType: string;
  defaults: Attributes;
  /**
   * Optional per-connection state that survives an update of the toxic (Toxiproxy's `StatefulToxic`),
   * e.g. how many bytes limit_data already let through.
   */
  newState?(): Record<string, number>;
  create(attributes: Attributes, out: ToxicOutput, state: Record<string, number>): ToxicStage;
}

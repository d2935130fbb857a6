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
  /**
   * Closes the whole connection once what was pushed is flushed (like a peer closing its socket); with a
   * TCP RST instead when the connection was opened with linger 0 (see `ToxicKind.lingerZero`).
   */
  close(): void;
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
  /** Byte toxics have none; HTTP toxics (see http-toxic.ts) are told apart by theirs. */
  layer?: undefined;
  /** The Go struct name, used in decoding error messages (`LatencyToxic`). */
  goType: string;
  defaults: Attributes;
  /**
   * Optional per-connection state that survives an update of the toxic (Toxiproxy's `StatefulToxic`),
   * e.g. how many bytes limit_data already let through.
   */
  newState?(): Record<string, number>;
  /**
   * Checks attributes Toxiproxy would crash on or turn into the opposite of what was asked (a negative
   * rate). Returns what is wrong, answered as a 400, or undefined.
   */
  validate?(attributes: Attributes): string | undefined;
  /** Removing the toxic closes the connection (Toxiproxy's `CleanupToxic`), whatever its toxicity drew. */
  closesOnRemoval?: boolean;
  /**
   * Present when a connection opens (in either direction, whatever its toxicity), the toxic makes that
   * connection's sockets close with a TCP RST (Toxiproxy sets SO_LINGER 0 on both).
   */
  lingerZero?: boolean;
  create(attributes: Attributes, out: ToxicOutput, state: Record<string, number>): ToxicStage;
}

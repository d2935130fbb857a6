/** How the body of one message is delimited (RFC 9112 §6). */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  /** Until the sender closes (a response without length). */
  | { kind: "close" };

export interface BodyStep {
  /** Bytes from the offset given that belong to this body. */
  used: number;
  done: boolean;
  /** The chunked framing is broken: the rest of the stream is no longer read as HTTP. */
  malformed: boolean;
}

enum Chunk {
  Size,
  SizeExtension,
  Data,
  DataEnd,
  Trailer,
}

/** Hex digits a chunk size may have before it is refused (2^52 bytes, exact in a double). */
const MAX_SIZE_DIGITS = 13;

/**
 * Finds where a body ends without holding any of it: it counts a length down, or follows chunk sizes,
 * their extensions, the data and the trailers, so the bytes themselves can go on as they come.
 */
export class BodyReader {
  private left: number;
  private state = Chunk.Size;
  private digits = 0;
  private lineLength = 0;

  constructor(private readonly framing: Framing) {
    this.left = framing.kind === "length" ? framing.length : 0;
  }

  get untilClose(): boolean {
    return this.framing.kind === "close";
  }

  feed(buf: Buffer, from: number): BodyStep {
    const available = buf.length - from;
    switch (this.framing.kind) {
      case "none":
        return { used: 0, done: true, malformed: false };
      case "close":
        return { used: available, done: false, malformed: false };
      case "length": {
        const used = Math.min(this.left, available);
        this.left -= used;
        return { used, done: this.left === 0, malformed: false };
      }
      case "chunked":
        return this.chunked(buf, from);
    }
  }

  private chunked(buf: Buffer, from: number): BodyStep {
    let i = from;
    const step = (done: boolean, malformed = false): BodyStep => ({ used: i - from, done, malformed });
    while (i < buf.length) {
      const c = buf[i]!;
      switch (this.state) {
        case Chunk.Size: {
          const digit = hexValue(c);
          if (digit >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return step(false, true);
            this.left = this.left * 16 + digit;
            i++;
          } else if (this.digits === 0) {
            return step(false, true);
          } else if (c === 0x0a) {
            i++;
            this.endSizeLine();
          } else {
            this.state = Chunk.SizeExtension;
          }
          break;
        }
        case Chunk.SizeExtension:
          i++;
          if (c === 0x0a) this.endSizeLine();
          break;
        case Chunk.Data: {
          const used = Math.min(this.left, buf.length - i);
          i += used;
          this.left -= used;
          if (this.left === 0) this.state = Chunk.DataEnd;
          break;
        }
        case Chunk.DataEnd:
          i++;
          if (c === 0x0a) this.state = Chunk.Size;
          else if (c !== 0x0d) return step(false, true);
          break;
        case Chunk.Trailer:
          i++;
          if (c === 0x0a) {
            if (this.lineLength === 0) return step(true);
            this.lineLength = 0;
          } else if (c !== 0x0d) {
            this.lineLength++;
          }
          break;
      }
    }
    return step(false);
  }

  private endSizeLine(): void {
    this.digits = 0;
    this.lineLength = 0;
    this.state = this.left === 0 ? Chunk.Trailer : Chunk.Data;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

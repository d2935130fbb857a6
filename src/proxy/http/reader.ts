import { BodyReader, type Framing } from "./body.js";
import { headEnd, MAX_HEAD, mayBeRequest, mayBeResponse } from "./head.js";

/** What a reader hands on, in stream order. */
export interface MessageSink {
  /**
   * A complete head (raw bytes, up to its empty line). Returns how its body is framed, or "raw" when it
   * is not HTTP/1.x: the head and everything after it are then handed on as raw bytes.
   */
  head(raw: Buffer): Framing | "raw";
  body(chunk: Buffer): void;
  /** The message is complete; the next bytes start another head (or are raw, see `rawAfterMessage`). */
  bodyEnd(): void;
  /** Bytes no longer read as HTTP (another protocol, an upgraded connection, a malformed message). */
  raw(chunk: Buffer): void;
  end(): void;
}

/**
 * Splits one direction of a connection into HTTP/1.x messages as the bytes come: a head is gathered
 * until it is complete (at most MAX_HEAD), a body is only counted, never held. Anything that is not
 * HTTP/1.x turns the rest of the stream into raw bytes, handed on as they are.
 */
export class MessageReader {
  /** Set by the sink while handling a message: once that message ends, the stream is raw. */
  rawAfterMessage = false;
  private pending: Buffer | null = null;
  private body: BodyReader | null = null;
  private isRaw = false;

  constructor(
    private readonly sink: MessageSink,
    private readonly requests: boolean,
  ) {}

  /** Bytes of a head not yet complete. */
  get buffered(): number {
    return this.pending?.length ?? 0;
  }

  get raw(): boolean {
    return this.isRaw;
  }

  /** From now on every byte is raw. */
  goRaw(): void {
    this.isRaw = true;
    this.body = null;
    const pending = this.pending;
    this.pending = null;
    if (pending) this.sink.raw(pending);
  }

  feed(chunk: Buffer): void {
    if (this.isRaw) {
      this.sink.raw(chunk);
      return;
    }
    let buf = chunk;
    let searchFrom = 0;
    if (this.pending) {
      searchFrom = Math.max(0, this.pending.length - 2);
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let at = 0;
    while (at < buf.length) {
      if (this.isRaw) {
        this.sink.raw(buf.subarray(at));
        return;
      }
      const body = this.body;
      if (body) {
        const step = body.feed(buf, at);
        if (step.used > 0) this.sink.body(buf.subarray(at, at + step.used));
        at += step.used;
        if (step.malformed) {
          this.isRaw = true;
          continue;
        }
        if (step.done) this.finishMessage();
        continue;
      }
      at = this.readHead(buf, at, searchFrom);
      searchFrom = at;
      if (at < 0) return;
    }
  }

  end(): void {
    if (this.pending) this.goRaw();
    if (this.body?.untilClose) this.finishMessage();
    this.sink.end();
  }

  /** Reads a head starting at `at`; returns where its body starts, or -1 when it is not complete yet. */
  private readHead(buf: Buffer, at: number, searchFrom: number): number {
    if (this.requests) {
      // Empty lines before a request are allowed (RFC 9112 §2.2) and passed on as they are.
      let start = at;
      while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
      if (start > at) this.sink.raw(buf.subarray(at, start));
      at = start;
      if (at === buf.length) return at;
    }
    const end = headEnd(buf, Math.max(at, searchFrom));
    if (end < 0) {
      const rest = buf.subarray(at);
      const plausible = this.requests ? mayBeRequest(rest) : mayBeResponse(rest);
      if (!plausible || rest.length > MAX_HEAD) {
        this.isRaw = true;
        this.sink.raw(rest);
      } else {
        this.pending = rest.length === buf.length ? buf : Buffer.from(rest);
      }
      return -1;
    }
    const framing = this.sink.head(buf.subarray(at, end));
    if (framing === "raw") {
      this.isRaw = true;
      this.sink.raw(buf.subarray(at, end));
      return end;
    }
    this.body = new BodyReader(framing);
    if (framing.kind === "none" || (framing.kind === "length" && framing.length === 0)) this.finishMessage();
    return end;
  }

  private finishMessage(): void {
    this.body = null;
    this.sink.bodyEnd();
    if (this.rawAfterMessage) this.isRaw = true;
  }
}

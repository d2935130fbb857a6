import type net from "node:net";

/** One response as a client reads it off the wire. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Reads HTTP/1.x responses off a socket, independently of the proxy's own parser: Content-Length,
 * chunked, or until the close. `next()` resolves with the next complete response, or null once the
 * connection ended without one.
 */
export class WireReader {
  private buf = Buffer.alloc(0);
  private ended = false;
  private waiters: (() => void)[] = [];
  /** Requests whose responses have no body (HEAD), in order. */
  readonly heads: boolean[] = [];

  constructor(socket: net.Socket) {
    socket.on("data", (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Bytes received and not yet read as a response. */
  get rest(): Buffer {
    return this.buf;
  }

  async next(noBody = false): Promise<WireResponse | null> {
    for (;;) {
      const r = this.tryParse(noBody);
      if (r) return r;
      if (this.ended) return null;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves once the peer ended the connection. */
  async closedNow(): Promise<void> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private tryParse(noBody: boolean): WireResponse | null {
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return null;
    const lines = this.buf.subarray(0, end).toString("latin1").split("\r\n");
    const status = Number(lines[0]!.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    let at = end + 4;
    let body: Buffer;
    if (noBody || status < 200 || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (headers["transfer-encoding"]?.includes("chunked")) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = this.buf.indexOf("\r\n", at);
        if (lineEnd < 0) return null;
        const size = Number.parseInt(this.buf.subarray(at, lineEnd).toString(), 16);
        if (size === 0) {
          const trailerEnd = this.buf.indexOf("\r\n", lineEnd + 2);
          if (trailerEnd < 0) return null;
          at = trailerEnd + 2;
          break;
        }
        if (this.buf.length < lineEnd + 2 + size + 2) return null;
        parts.push(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      if (this.buf.length < at + n) return null;
      body = this.buf.subarray(at, at + n);
      at += n;
    } else {
      if (!this.ended) return null;
      body = this.buf.subarray(at);
      at = this.buf.length;
    }
    this.buf = this.buf.subarray(at);
    return { status, headers, body: body.toString("utf8") };
  }
}

/** A header as it was written: name in its own case, value trimmed. Order and repeats are kept. */
export type Header = [name: string, value: string];

export interface RequestHead {
  method: string;
  /** The request target as written (`/charge?id=1`, `http://host/x`, `*`). */
  target: string;
  /** The path of the target without its query (`/charge`). */
  path: string;
  version: "1.0" | "1.1";
  headers: Header[];
}

export interface ResponseHead {
  version: "1.0" | "1.1";
  status: number;
  reason: string;
  headers: Header[];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\r\n]*))?$/;

/** Largest head (start line and headers) the proxy reads as HTTP; a larger one is passed through as bytes. */
export const MAX_HEAD = 64 << 10;

/** Header lines; undefined when one is malformed (obsolete folding, no colon, space before the colon). */
function parseHeaders(lines: string[]): Header[] | undefined {
  const headers: Header[] = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return headers;
}

function lines(raw: Buffer): string[] {
  let text = raw.toString("latin1");
  if (text.charCodeAt(0) === 0x0d || text.charCodeAt(0) === 0x0a) text = text.replace(/^(?:\r?\n)+/, "");
  const all = text.split("\n");
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!;
    if (line.charCodeAt(line.length - 1) === 0x0d) all[i] = line.slice(0, -1);
  }
  // The head ends with an empty line: drop it (and the one a bare-LF split leaves behind).
  while (all.length > 0 && all[all.length - 1] === "") all.pop();
  return all;
}

/** Parses a request head (the bytes up to and including the empty line); undefined when it is not HTTP/1.x. */
export function parseRequestHead(raw: Buffer): RequestHead | undefined {
  const [first = "", ...rest] = lines(raw);
  const m = REQUEST_LINE.exec(first);
  const headers = m && parseHeaders(rest);
  if (!m || !headers) return undefined;
  const target = m[2]!;
  return { method: m[1]!, target, path: pathOf(target), version: m[3] === "0" ? "1.0" : "1.1", headers };
}

/** Parses a response head; undefined when it is not HTTP/1.x. */
export function parseResponseHead(raw: Buffer): ResponseHead | undefined {
  const [first = "", ...rest] = lines(raw);
  const m = STATUS_LINE.exec(first);
  const headers = m && parseHeaders(rest);
  if (!m || !headers) return undefined;
  return { version: m[1] === "0" ? "1.0" : "1.1", status: Number(m[2]), reason: m[3] ?? "", headers };
}

/**
 * A head as the HTTP stage reads every message: the start line, and the values of the headers that frame
 * the message (`Content-Length`, `Transfer-Encoding`, `Connection`). The other headers are only read, from
 * the raw bytes, when something asks for `headers` (a toxic that matches, or matches on headers): a head no
 * toxic acts on costs a scan of its bytes and a few strings, no object per header.
 */
abstract class ScannedHead {
  /** The `Content-Length` values, as written (trimmed). */
  lengths: string[] = NONE;
  /** The `Transfer-Encoding` tokens, lower-cased. */
  codings: string[] = NONE;
  /** The `Connection` tokens, lower-cased. */
  connection: string[] = NONE;
  private all: Header[] | undefined;
  /** The header lines, kept to be parsed on demand. */
  private readonly block: Buffer;

  /** `raw` from `headersFrom` holds the header lines. */
  constructor(raw: Buffer, headersFrom: number) {
    const block = raw.subarray(headersFrom);
    // A request is kept until its response is complete: never keep a large read alive for its head.
    this.block = block.buffer.byteLength > RETAIN_LIMIT ? Buffer.from(block) : block;
  }

  get headers(): Header[] {
    // The scan has checked every line, so the full parse cannot fail here.
    this.all ??= parseHeaders(lines(this.block)) ?? [];
    return this.all;
  }

  set headers(headers: Header[]) {
    this.all = headers;
  }
}

const NONE: string[] = [];
/** Past this size, the memory a head was read into is not kept for it (its header lines are copied). */
const RETAIN_LIMIT = 16 << 10;

export class ScannedRequest extends ScannedHead implements RequestHead {
  method = "";
  target = "";
  path = "";
  version: "1.0" | "1.1" = "1.1";
}

export class ScannedResponse extends ScannedHead implements ResponseHead {
  version: "1.0" | "1.1" = "1.1";
  status = 0;
  reason = "";
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const COLON = 0x3a;
/** Token characters (RFC 9110 §5.6.2), by byte. */
const TOKEN_BYTE = new Uint8Array(256);
for (const c of "!#$%&'*+.^_`|~-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TOKEN_BYTE[c.charCodeAt(0)] = 1;

/** Whether `buf[from, from + name.length)` is `name` (lower case) in any case; the bytes are token bytes. */
function isName(buf: Buffer, from: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) if ((buf[from + k]! | 0x20) !== name.charCodeAt(k)) return false;
  return true;
}

/** Where the line starting at `at` ends (its LF, or the end of `buf`). */
function lineEnd(buf: Buffer, at: number): number {
  const lf = buf.indexOf(LF, at);
  return lf < 0 ? buf.length : lf;
}

/** The comma-separated tokens of `value`, lower-cased, added to `into` (a new list in place of NONE). */
function addTokens(into: string[], value: string): string[] {
  const list = into === NONE ? [] : into;
  for (const part of value.includes(",") ? value.split(",") : [value]) {
    const token = part.trim().toLowerCase();
    if (token !== "") list.push(token);
  }
  return list;
}

/**
 * Reads the header lines from `at` into `head`'s framing fields; false when a line is malformed, exactly
 * where `parseHeaders` would refuse it (what comes after the empty line must be empty lines too).
 */
function scanHeaders(buf: Buffer, at: number, head: ScannedHead): boolean {
  let i = at;
  while (i < buf.length) {
    const lf = lineEnd(buf, i);
    const end = lf > i && buf[lf - 1] === CR ? lf - 1 : lf;
    if (end === i) {
      // An empty line: from here on, only empty lines may follow.
      for (let k = lf + 1; k < buf.length; k++) {
        if (buf[k] === CR && (k + 1 === buf.length || buf[k + 1] === LF)) k++;
        else if (buf[k] !== LF) return false;
      }
      return true;
    }
    let colon = i;
    while (colon < end && TOKEN_BYTE[buf[colon]!] === 1) colon++;
    if (colon === i || colon === end || buf[colon] !== COLON) return false;
    const length = colon - i;
    if (length === 14 && isName(buf, i, "content-length")) {
      if (head.lengths === NONE) head.lengths = [];
      head.lengths.push(buf.toString("latin1", colon + 1, end).trim());
    } else if (length === 17 && isName(buf, i, "transfer-encoding")) {
      head.codings = addTokens(head.codings, buf.toString("latin1", colon + 1, end).trim());
    } else if (length === 10 && isName(buf, i, "connection")) {
      head.connection = addTokens(head.connection, buf.toString("latin1", colon + 1, end).trim());
    }
    i = lf + 1;
  }
  return true;
}

/** Past the empty lines (`\n` or `\r\n`) at the start, as `lines` drops them. */
function skipEmptyLines(buf: Buffer): number {
  let i = 0;
  for (;;) {
    if (buf[i] === LF) i++;
    else if (buf[i] === CR && buf[i + 1] === LF) i += 2;
    else return i;
  }
}

/** The start-line's end without its CR, and where the next line starts. */
function startLine(buf: Buffer, from: number): [end: number, next: number] {
  const lf = lineEnd(buf, from);
  return [lf > from && buf[lf - 1] === CR ? lf - 1 : lf, lf + 1];
}

/** Whether `buf[at, end)` is `HTTP/1.0` or `HTTP/1.1`. */
function isVersion(buf: Buffer, at: number, end: number): boolean {
  if (end - at !== 8) return false;
  for (let k = 0; k < 7; k++) if (buf[at + k] !== HTTP1[k]) return false;
  return buf[at + 7] === 0x30 || buf[at + 7] === 0x31;
}

/**
 * Reads a request head as `parseRequestHead` does, accepting and refusing the same heads, without
 * building its headers (see ScannedHead). Undefined when it is not HTTP/1.x.
 */
export function scanRequestHead(raw: Buffer): ScannedRequest | undefined {
  const from = skipEmptyLines(raw);
  const [end, next] = startLine(raw, from);
  let i = from;
  while (i < end && TOKEN_BYTE[raw[i]!] === 1) i++;
  if (i === from || raw[i] !== SP) return undefined;
  const methodEnd = i++;
  const targetFrom = i;
  while (i < end && raw[i]! > SP && raw[i]! < 0x7f) i++;
  if (i === targetFrom || raw[i] !== SP || !isVersion(raw, i + 1, end)) return undefined;
  const head = new ScannedRequest(raw, Math.min(next, raw.length));
  if (!scanHeaders(raw, next, head)) return undefined;
  head.method = raw.toString("latin1", from, methodEnd);
  head.target = raw.toString("latin1", targetFrom, i);
  head.path = pathOf(head.target);
  head.version = raw[end - 1] === 0x30 ? "1.0" : "1.1";
  return head;
}

/** Reads a response head as `parseResponseHead` does, without building its headers. */
export function scanResponseHead(raw: Buffer): ScannedResponse | undefined {
  const from = skipEmptyLines(raw);
  const [end, next] = startLine(raw, from);
  if (end - from < 12 || !isVersion(raw, from, from + 8) || raw[from + 8] !== SP) return undefined;
  for (let k = from + 9; k < from + 12; k++) if (raw[k]! < 0x30 || raw[k]! > 0x39) return undefined;
  if (end > from + 12) {
    if (raw[from + 12] !== SP) return undefined;
    for (let k = from + 13; k < end; k++) if (raw[k] === CR) return undefined;
  }
  const head = new ScannedResponse(raw, Math.min(next, raw.length));
  if (!scanHeaders(raw, next, head)) return undefined;
  head.version = raw[from + 7] === 0x30 ? "1.0" : "1.1";
  head.status = (raw[from + 9]! - 0x30) * 100 + (raw[from + 10]! - 0x30) * 10 + (raw[from + 11]! - 0x30);
  head.reason = end > from + 13 ? raw.toString("latin1", from + 13, end) : "";
  return head;
}

function pathOf(target: string): string {
  if (target.charCodeAt(0) === 0x2f) {
    // Origin form (`/charge?id=1`), nearly every request: no scheme to take off.
    for (let i = 1; i < target.length; i++) {
      const c = target.charCodeAt(i);
      if (c === 0x3f || c === 0x23) return target.slice(0, i);
    }
    return target;
  }
  let path = target;
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(path);
  if (scheme) path = path.slice(scheme[0].length) || "/";
  const query = path.search(/[?#]/);
  return query < 0 ? path : path.slice(0, query);
}

/** Every value of a header, case-insensitively. (Runs for every message: plain loops, no lower-casing of
 * names whose length already differs.) */
export function valuesOf(headers: readonly Header[], name: string): string[] {
  const lower = name.toLowerCase();
  const values: string[] = [];
  for (const [n, v] of headers) {
    if (n.length === lower.length && (n === lower || n.toLowerCase() === lower)) values.push(v);
  }
  return values;
}

/** The comma-separated tokens of a header (`Connection: keep-alive, Upgrade`), lower-cased. */
export function tokensOf(headers: readonly Header[], name: string): string[] {
  const tokens: string[] = [];
  for (const value of valuesOf(headers, name)) {
    for (const part of value.includes(",") ? value.split(",") : [value]) {
      const token = part.trim().toLowerCase();
      if (token !== "") tokens.push(token);
    }
  }
  return tokens;
}

export function withoutHeaders(headers: readonly Header[], ...names: string[]): Header[] {
  const drop = new Set(names.map((n) => n.toLowerCase()));
  return headers.filter(([n]) => !drop.has(n.toLowerCase()));
}

function headerBlock(headers: readonly Header[]): string {
  let text = "";
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

export function requestBytes(head: RequestHead): Buffer {
  return Buffer.from(
    `${head.method} ${head.target} HTTP/${head.version}\r\n${headerBlock(head.headers)}`,
    "latin1",
  );
}

export function responseBytes(head: ResponseHead): Buffer {
  const reason = head.reason ? ` ${head.reason}` : "";
  return Buffer.from(
    `HTTP/${head.version} ${head.status}${reason}\r\n${headerBlock(head.headers)}`,
    "latin1",
  );
}

const isToken = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x61 && c <= 0x7a) ||
  "!#$%&'*+.^_`|~-".includes(String.fromCharCode(c));
const HTTP1 = Buffer.from("HTTP/1.");

/**
 * Whether the start of a head not yet complete can still be an HTTP/1.x request line: false as soon as it
 * cannot (a TLS hello, an HTTP/2 preface, a binary protocol), so such a stream is passed through at once
 * instead of waiting for a head that will never come.
 */
export function mayBeRequest(buf: Buffer): boolean {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  const start = i;
  while (i < buf.length && isToken(buf[i]!)) i++;
  if (i === buf.length) return i - start <= 32;
  if (i === start || buf[i] !== 0x20) return false;
  i++;
  const target = i;
  while (i < buf.length && buf[i]! > 0x20 && buf[i]! < 0x7f) i++;
  if (i === buf.length) return i - target <= MAX_HEAD;
  if (i === target || buf[i] !== 0x20) return false;
  i++;
  for (let k = 0; k < HTTP1.length && i < buf.length; k++, i++) if (buf[i] !== HTTP1[k]) return false;
  if (i < buf.length && buf[i] !== 0x30 && buf[i] !== 0x31) return false;
  return true;
}

/** Whether the start of a head not yet complete can still be an HTTP/1.x status line. */
export function mayBeResponse(buf: Buffer): boolean {
  for (let k = 0; k < HTTP1.length && k < buf.length; k++) if (buf[k] !== HTTP1[k]) return false;
  return true;
}

/**
 * Where the head ends in `buf` (just past its empty line), searching from `from`; -1 when it has not yet.
 * A bare LF ends a line too, as most servers accept.
 */
export function headEnd(buf: Buffer, from: number): number {
  let at = buf.indexOf(0x0a, from);
  while (at >= 0) {
    if (buf[at + 1] === 0x0a) return at + 2;
    if (buf[at + 1] === 0x0d && buf[at + 2] === 0x0a) return at + 3;
    at = buf.indexOf(0x0a, at + 1);
  }
  return -1;
}

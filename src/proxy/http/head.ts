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

function pathOf(target: string): string {
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

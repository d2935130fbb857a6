import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  parseRequestHead,
  parseResponseHead,
  scanRequestHead,
  scanResponseHead,
  tokensOf,
  valuesOf,
} from "../../src/proxy/http/head.js";

// The HTTP stage reads every head with the scanner, which builds no header objects; the full parser
// stays the reference. Both must accept and refuse the same heads and read the same framing from them.

const SEED = 20261207;

/** Mostly well-formed parts, now and then a broken one. */
const mostly = (good: string[], bad: string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...good), weight: 12 },
    { arbitrary: fc.constantFrom(...bad), weight: 1 },
  );
const eol = mostly(["\r\n", "\n"], ["\r\r\n", "\r", "\n\r"]);
/** A few bytes of anything (latin1), now and then, to land in any part of a head. */
const noise = fc.oneof(
  { arbitrary: fc.constant(""), weight: 12 },
  {
    arbitrary: fc.string({
      unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 3,
    }),
    weight: 1,
  },
);
const header = fc.tuple(
  mostly(
    [
      "Content-Length",
      "content-length",
      "TRANSFER-ENCODING",
      "Transfer-Encoding",
      "Connection",
      "X-A",
      "Host",
    ],
    ["Bad Name", "", "Cont:ent", "Connectio\r", "X\x80"],
  ),
  mostly([":", ": ", ":  "], [" :", ""]),
  mostly(
    ["5", " 12 ", "1, 1", "1, 2", "chunked", "gzip, chunked", "close, Upgrade", " keep-alive ", "x", ""],
    [":x", " \t a \r b", "\xa0 x"],
  ),
  noise,
  eol,
);
const headers = fc.array(header, { maxLength: 5 }).map((hs) => hs.map((h) => h.join("")).join(""));
const lead = mostly([""], ["\r\n", "\n", "\r", "\n\r\n"]);
const end = mostly(["\r\n", "\n"], ["\r\n\r\n", "", "\r"]);

function head(start: fc.Arbitrary<string>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(lead, start, noise, eol, headers, end)
    .map(([l, s, n, e, h, t]) => Buffer.from(`${l}${s}${n}${e}${h}${t}`, "latin1"));
}

const requestLine = fc
  .tuple(
    mostly(["GET", "POST", "get", "M-SEARCH"], ["G@T", ""]),
    mostly([" "], ["  ", ""]),
    mostly(["/a?b", "/orders/42", "/p#f", "http://h:1/x?y", "http://h", "*"], ["/a b", "/\x7f", ""]),
    mostly([" "], ["  "]),
    mostly(["HTTP/1.1", "HTTP/1.0"], ["HTTP/1.2", "HTTP/2.0", "http/1.1", "HTTP/1.1 ", "HTTP/1."]),
  )
  .map((parts) => parts.join(""));
const statusLine = mostly(
  ["HTTP/1.1 200 OK", "HTTP/1.0 204", "HTTP/1.1 200 "],
  [
    "HTTP/1.1 2000",
    "HTTP/1.1 20",
    "HTTP/1.1 200 O\rK",
    "HTTP/1.1 099 x y",
    "HTTP/1.2 200 OK",
    "HTTP/1.1  200 OK",
    "HTTP/1.1 1a0 OK",
  ],
);

interface Framed {
  lengths: string[];
  codings: string[];
  connection: string[];
  headers: [string, string][];
}

/**
 * Heads from `start` lines (and random bytes) read by both: the same verdict, the same `fields` of the
 * start line, the same headers and framing.
 */
function agree<T extends { headers: [string, string][] }>(
  start: fc.Arbitrary<string>,
  parse: (raw: Buffer) => T | undefined,
  scan: (raw: Buffer) => (T & Framed) | undefined,
  fields: (keyof T)[],
): void {
  fc.assert(
    fc.property(fc.oneof(head(start), fc.uint8Array({ maxLength: 40 }).map(Buffer.from)), (raw) => {
      const parsed = parse(raw);
      const scanned = scan(raw);
      expect(scanned === undefined).toBe(parsed === undefined);
      if (!parsed || !scanned) return;
      for (const field of fields) expect(scanned[field]).toEqual(parsed[field]);
      expect(scanned.lengths).toEqual(valuesOf(parsed.headers, "content-length"));
      expect(scanned.codings).toEqual(tokensOf(parsed.headers, "transfer-encoding"));
      expect(scanned.connection).toEqual(tokensOf(parsed.headers, "connection"));
      expect(scanned.headers).toEqual(parsed.headers);
    }),
    { seed: SEED, numRuns: 3000 },
  );
}

describe("the head scanner the HTTP stage uses", () => {
  it("reads requests exactly as the full parser does, accepting and refusing the same ones", () => {
    agree(requestLine, parseRequestHead, scanRequestHead, ["method", "target", "path", "version"]);
  });

  it("reads responses exactly as the full parser does", () => {
    agree(statusLine, parseResponseHead, scanResponseHead, ["version", "status", "reason"]);
  });

  it("keeps its own copy of the header lines of a head read into a large buffer", () => {
    const read = Buffer.alloc(1 << 20, "x");
    const head = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n";
    read.write(head, "latin1");
    const scanned = scanRequestHead(read.subarray(0, head.length))!;
    read.fill(0);
    expect(scanned.headers).toEqual([
      ["Host", "h"],
      ["Content-Length", "1000000"],
    ]);
  });

  it("accepts enough heads for the comparison to mean something", () => {
    const accepted = fc
      .sample(head(requestLine), { seed: SEED, numRuns: 3000 })
      .filter((raw) => scanRequestHead(raw) !== undefined);
    const framed = accepted.filter((raw) => scanRequestHead(raw)!.lengths.length > 0);
    expect(accepted.length).toBeGreaterThan(600);
    expect(framed.length).toBeGreaterThan(150);
  });
});

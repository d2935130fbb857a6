import http from "node:http";
import type net from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { connect, ProxyUnderTest } from "../proxy/helpers.js";
import { WireReader } from "../proxy/http-wire.js";

// Random request sequences with random HTTP toxics, over keep-alive connections with pipelining: every
// response the client reads must be the upstream's own answer to that very request, or a toxic's, never a
// mix and never another request's. The sequences come from a fixed seed; the proxy draws toxicity itself.

const SEED = 20261207;

let upstream: http.Server;
let upstreamAddress = "";
let server: ToxiproxyServer;
const harness = new ProxyUnderTest(() => server.url);

/** The byte at position i of the body of request `id`: the upstream checks every byte it got. */
const bodyByte = (id: number, i: number): number => 97 + ((id * 7 + i) % 26);
const bodyOf = (id: number, length: number): Buffer =>
  Buffer.from(Array.from({ length }, (_, i) => bodyByte(id, i)));

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const id = Number(req.headers["x-id"]);
      const body = Buffer.concat(chunks);
      const intact = body.equals(bodyOf(id, body.length));
      // A body that is not the client's was replaced by a toxic: say what it was, to be checked.
      const received = intact ? undefined : body.toString("latin1").slice(0, 32);
      const answer = JSON.stringify({ id, length: body.length, intact, received, pad: "p".repeat(id % 300) });
      if (req.url?.startsWith("/chunked")) {
        // A chunked answer in several writes.
        res.write(answer.slice(0, 10));
        res.end(answer.slice(10));
      } else {
        res.setHeader("content-length", Buffer.byteLength(answer));
        res.end(answer);
      }
    });
  });
  upstream.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamAddress = `127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
  server = await startToxiproxyServer({ port: 0 });
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await server.close();
});

const PATHS = ["/a", "/b/x", "/b/y/z", "/chunked", "/chunked/b"] as const;

const matchArb = fc.option(
  fc.oneof(
    fc.record({ method: fc.constantFrom("GET", "POST") }),
    fc.record({ path: fc.constantFrom("/a", "/b/*", "/chunked") }),
    fc.record({ path_prefix: fc.constantFrom("/b", "/chunked") }),
  ),
  { nil: undefined },
);
const streamArb = fc.constantFrom("upstream", "downstream");

/** A toxic; `i` (its place) makes its body or header value unique. */
const toxicArb = fc.record({
  kind: fc.constantFrom("status", "body", "header", "delay"),
  stream: streamArb,
  status: fc.constantFrom(500, 502, 503, 429),
  latency: fc.integer({ min: 0, max: 15 }),
  toxicity: fc.constantFrom(0, 0.5, 1),
  match: matchArb,
});
const toxicsArb = fc.array(toxicArb, { minLength: 1, maxLength: 3 }).map((list) =>
  list.map((t, i) => {
    const match = t.match ? { match: t.match } : {};
    const attributes =
      t.kind === "status"
        ? { status: t.status, body: `status-${i}`, ...match }
        : t.kind === "body"
          ? { body: `body-${i}`, ...match }
          : t.kind === "header"
            ? { set: { "x-hdr": `h-${i}` }, ...match }
            : { latency: t.latency, ...match };
    return { name: `t${i}`, type: `http_${t.kind}`, stream: t.stream, toxicity: t.toxicity, attributes };
  }),
);

const requestArb = fc.record({
  method: fc.constantFrom("GET", "POST"),
  path: fc.constantFrom(...PATHS),
  length: fc.integer({ min: 0, max: 3000 }),
  chunked: fc.boolean(),
  chunk: fc.integer({ min: 1, max: 700 }),
});

function requestBytes(
  r: { method: string; path: string; length: number; chunked: boolean; chunk: number },
  id: number,
): Buffer {
  const head = `${r.method} ${r.path}?id=${id} HTTP/1.1\r\nHost: t\r\nX-Id: ${id}\r\n`;
  const body = bodyOf(id, r.method === "POST" ? r.length : 0);
  if (r.method !== "POST") return Buffer.from(`${head}\r\n`);
  if (!r.chunked) return Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\r\n\r\n`), body]);
  const parts: Buffer[] = [Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n`)];
  for (let at = 0; at < body.length; at += r.chunk) {
    const piece = body.subarray(at, at + r.chunk);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(parts);
}

describe("HTTP toxics on random request sequences over keep-alive connections", () => {
  it("answer each request with the upstream's own answer to it or a toxic's, never a mix", async () => {
    await fc.assert(
      fc.asyncProperty(
        toxicsArb,
        // Requests in groups: each group is written at once (pipelined), then its answers read.
        fc.array(fc.array(requestArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        async (toxics, groups) => {
          const port = await harness.proxyTo(upstreamAddress);
          const sockets: net.Socket[] = [];
          try {
            for (const toxic of toxics) await harness.addToxic(toxic);
            const socket = await connect(port);
            sockets.push(socket);
            const wire = new WireReader(socket);
            let id = 0;
            for (const group of groups) {
              const ids = group.map(() => ++id);
              socket.write(Buffer.concat(group.map((r, k) => requestBytes(r, ids[k]!))));
              for (const [k, r] of group.entries()) {
                const res = await wire.next();
                expect(res, `answer to request ${ids[k]}`).not.toBeNull();
                const toxicBody = toxics.find(
                  (t) => (t.attributes as { body?: string }).body === res!.body && res!.body !== "",
                );
                if (toxicBody) {
                  if (toxicBody.type === "http_status")
                    expect(res!.status).toBe((toxicBody.attributes as { status: number }).status);
                  continue;
                }
                if (res!.body === "") {
                  // An http_status toxic without body is not generated: an empty body is always wrong.
                  throw new Error(`empty answer to request ${ids[k]} (status ${res!.status})`);
                }
                const own = JSON.parse(res!.body) as {
                  id: number;
                  length: number;
                  intact: boolean;
                  received?: string;
                };
                expect(own.id).toBe(ids[k]);
                if (own.intact) expect(own.length).toBe(r.method === "POST" ? r.length : 0);
                else {
                  // Only an upstream http_body toxic may change what the upstream got, into its own body.
                  const replacing = toxics.filter((t) => t.type === "http_body" && t.stream === "upstream");
                  expect(replacing.map((t) => (t.attributes as { body: string }).body)).toContain(
                    own.received,
                  );
                }
                expect(res!.status).toBe(200);
                const hdr = res!.headers["x-hdr"];
                if (hdr !== undefined) expect(toxics.map((t) => `h-${t.name.slice(1)}`)).toContain(hdr);
              }
            }
            expect(wire.closed).toBe(false);
            expect(wire.rest.length).toBe(0);
          } finally {
            for (const s of sockets) s.destroy();
            await harness.cleanup();
          }
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
  }, 120_000);

  it("fault as many requests as their toxicity says, within statistical bounds", async () => {
    const N = 300;
    for (const p of [0.1, 0.5, 0.9]) {
      const port = await harness.proxyTo(upstreamAddress);
      try {
        await harness.addToxic({
          type: "http_status",
          stream: "upstream",
          toxicity: p,
          attributes: { status: 503, body: "x" },
        });
        let faulted = 0;
        // Three keep-alive connections, each request drawn on its own.
        for (let c = 0; c < 3; c++) {
          const socket = await connect(port);
          const wire = new WireReader(socket);
          for (let i = 0; i < N / 3; i++) {
            socket.write(
              requestBytes({ method: "GET", path: "/a", length: 0, chunked: false, chunk: 1 }, i + 1),
            );
            if ((await wire.next())!.status === 503) faulted++;
          }
          socket.destroy();
        }
        // Five standard deviations of a binomial count: a correct proxy fails this about once in 3.5 million.
        const sigma = Math.sqrt(N * p * (1 - p));
        expect(Math.abs(faulted - N * p), `toxicity ${p}: ${faulted} of ${N}`).toBeLessThanOrEqual(5 * sigma);
      } finally {
        await harness.cleanup();
      }
    }
  }, 60_000);
});

import { createServer, type IncomingMessage, type Server } from "node:http";
import { gunzipSync } from "node:zlib";
import type {
  IAnyValue,
  IKeyValue,
} from "@opentelemetry/otlp-transformer/build/src/common/internal-types.js";
import type { IExportTraceServiceRequest } from "@opentelemetry/otlp-transformer/build/src/trace/internal-types.js";

/**
 * An OTLP/HTTP trace receiver on 127.0.0.1:<free port>, as a collector would be: it accepts the OTLP/JSON
 * requests the official exporter sends (`POST /v1/traces`, gzip or not) and keeps every span, flattened.
 * `mode` makes it a collector that answers 503 or never answers at all.
 */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  startMs: number;
  endMs: number;
  status: { code: number; message?: string };
}

export interface OtlpReceiver {
  /** The base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Requests seen, answered or not. */
  requests(): number;
  /** Waits until `accept(spans)`; throws after `timeoutMs` naming what arrived. */
  waitFor(accept: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(mode: "ok" | "failing" | "hanging" = "ok"): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  const server: Server = createServer(async (req, res) => {
    requests++;
    if (mode === "hanging") return; // holds the connection until the client gives up
    if (mode === "failing") {
      res.writeHead(503).end("unavailable");
      return;
    }
    if (req.method !== "POST" || req.url !== "/v1/traces") {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readBody(req);
      if (!String(req.headers["content-type"]).startsWith("application/json"))
        throw new Error(`unexpected content-type ${req.headers["content-type"]}`);
      spans.push(...flatten(JSON.parse(body.toString("utf8")) as IExportTraceServiceRequest));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    } catch (err) {
      res.writeHead(400).end((err as Error).message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests: () => requests,
    async waitFor(accept, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!accept(spans)) {
        if (Date.now() > deadline)
          throw new Error(
            `spans not as expected after ${timeoutMs} ms: ${spans.map((s) => s.name).join(", ")}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
}

function flatten(request: IExportTraceServiceRequest): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const service = String(attributes(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans ?? []) {
        out.push({
          service,
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          ...(s.parentSpanId ? { parentSpanId: String(s.parentSpanId) } : {}),
          name: s.name,
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
          startMs: Number(s.startTimeUnixNano) / 1e6,
          endMs: Number(s.endTimeUnixNano) / 1e6,
          status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
        });
      }
    }
  }
  return out;
}

function attributes(kvs: IKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, value(kv.value)]));
}

function value(v: IAnyValue): unknown {
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return Number(v.intValue);
  if (v.doubleValue != null) return v.doubleValue;
  if (v.arrayValue) return v.arrayValue.values.map(value);
  return undefined;
}

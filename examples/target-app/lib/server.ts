import http, { type IncomingHttpHeaders, type Server } from "node:http";
import type { Logger } from "pino";
import type { ServiceMetrics } from "./metrics.js";
import { flushTracing, withServerSpan } from "./tracing.js";

export interface JsonRequest {
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface JsonReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Handles one route; a thrown error becomes a 500. */
export type Handler = (req: JsonRequest) => Promise<JsonReply>;

export interface ServiceServerOptions {
  service: string;
  port: number;
  host?: string;
  /** Routes by "METHOD /path", e.g. "POST /orders". /healthz and /metrics are always there. */
  routes: Record<string, Handler>;
  metrics: ServiceMetrics;
  log: Logger;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Starts a service's HTTP server with its routes, GET /healthz and GET /metrics, counting and timing every
 * request under its route (unknown paths share the route "other" to keep label sets bounded).
 * @throws the listen error (e.g. EADDRINUSE).
 */
export async function startServiceServer(opts: ServiceServerOptions): Promise<Server> {
  const { service, metrics, log } = opts;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const key = `${req.method} ${path}`;
    const handler = opts.routes[key];
    const route = handler || path === "/healthz" || path === "/metrics" ? path : "other";
    const stopTimer = metrics.httpDuration.startTimer({ service, route });
    const send = (
      status: number,
      body: string,
      contentType: string,
      headers: Record<string, string> = {},
    ) => {
      metrics.httpRequests.inc({ service, route, code: String(status) });
      stopTimer();
      if (res.writableEnded || res.destroyed) return;
      res.writeHead(status, {
        "content-type": contentType,
        "content-length": Buffer.byteLength(body),
        ...headers,
      });
      res.end(body);
    };
    const sendJson = (reply: JsonReply) =>
      send(reply.status, JSON.stringify(reply.body), "application/json", reply.headers);

    if (key === "GET /healthz") return sendJson({ status: 200, body: { status: "ok", service } });
    if (key === "GET /metrics") {
      metrics.registry.metrics().then(
        (text) => send(200, text, metrics.registry.contentType),
        (error: unknown) => send(500, String(error), "text/plain"),
      );
      return;
    }
    if (!handler) return sendJson({ status: 404, body: { error: `no route ${key}` } });
    const answer = (reply: JsonReply): number => {
      sendJson(reply);
      return reply.status;
    };
    void withServerSpan(req.method ?? "GET", route, req.headers, () =>
      readJson(req).then(
        (body) =>
          handler({ headers: req.headers, body }).then(answer, (error: unknown) => {
            // One line per failure: during a fault there are many, and their stacks say nothing new.
            // The stack is there at debug level (LOG_LEVEL=debug).
            if (log.isLevelEnabled("debug")) log.debug({ err: error, route }, "handler failed");
            else log.warn({ route, error: String(error) }, "handler failed");
            return answer({ status: 500, body: { error: String(error) } });
          }),
        (error: unknown) => answer({ status: 400, body: { error: String(error) } }),
      ),
    );
  });
  // Longer than any client's idle time, so the server never closes a connection a client is about to reuse.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  log.info({ port: opts.port }, `${service} listening`);
  return server;
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error("body too large"));
      else chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(text === "" ? undefined : JSON.parse(text));
      } catch {
        reject(new Error("body is not JSON"));
      }
    });
  });
}

/**
 * Makes a service process end cleanly on SIGTERM/SIGINT, and end at once when its supervisor goes away
 * (the IPC channel closes even when the supervisor is SIGKILLed), so no service outlives its stack.
 * Never throws.
 */
export function exitWithSupervisor(server: Server, log: Logger): void {
  const stop = (reason: string) => {
    log.info({ reason }, "stopping");
    server.closeAllConnections();
    // The spans still queued leave first, for at most half a second.
    server.close(() => void flushTracing(500).then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  if (process.send) process.once("disconnect", () => process.exit(0));
}

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { ApiError, ErrBadRequestBody, internalError } from "./api-error.js";
import { proxyHandlers } from "./api-proxies.js";
import { toxicHandlers } from "./api-toxics.js";
import type { ProxyCollection } from "./collection.js";
import type { ProxyMetrics } from "./metrics.js";
import { apiError, plainError, type Reply } from "./reply.js";
import { requestId } from "./request-id.js";

const VERSION = "2.12.0";
/**
 * Toxiproxy sets no size limit on a body: its JSON decoder reads the first value and ignores the rest. The
 * first MAX_BODY bytes are kept; past them the rest is not read, and a first value that ends within them
 * still counts.
 */
const MAX_BODY = 1 << 20;

type Handler = (params: string[], body: () => Promise<string>) => Promise<Reply>;
/** `*` as a method serves every method (Toxiproxy's /metrics). */
type Routes = { pattern: string[]; methods: Record<string, Handler> }[];

/**
 * Reads the request body, at most MAX_BODY bytes of it. A client that sends it too slowly is cut off by
 * the server's request timeout (408), which holds up only its own connection.
 * @throws ApiError 400 when the client aborts the request.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off("data", onData);
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const onData = (chunk: Buffer): void => {
      const room = MAX_BODY - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += chunk.length;
      if (size >= MAX_BODY) {
        req.off("end", done);
        done();
      }
    };
    req.on("data", onData);
    req.once("end", done);
    req.once("error", (err) => reject(ErrBadRequestBody.join(err.message)));
    req.once("close", () => reject(ErrBadRequestBody.join("unexpected EOF")));
  });
}

function routes(proxies: ProxyCollection, metrics: ProxyMetrics | undefined): Routes {
  const p = proxyHandlers(proxies);
  const t = toxicHandlers(proxies);
  const table: Routes = [
    { pattern: ["reset"], methods: { POST: () => p.reset() } },
    {
      pattern: ["proxies"],
      methods: { GET: () => p.index(), POST: async (_, body) => p.create(await body()) },
    },
    { pattern: ["populate"], methods: { POST: async (_, body) => p.populate(await body()) } },
    {
      pattern: ["proxies", "*"],
      methods: {
        GET: ([name]) => p.show(name!),
        POST: async ([name], body) => p.update(name!, await body()),
        PATCH: async ([name], body) => p.update(name!, await body()),
        DELETE: ([name]) => p.remove(name!),
      },
    },
    {
      pattern: ["proxies", "*", "toxics"],
      methods: {
        GET: ([name]) => t.index(name!),
        POST: async ([name], body) => t.create(name!, await body()),
      },
    },
    {
      pattern: ["proxies", "*", "toxics", "*"],
      methods: {
        GET: ([proxy, toxic]) => t.show(proxy!, toxic!),
        POST: async ([proxy, toxic], body) => t.update(proxy!, toxic!, await body()),
        PATCH: async ([proxy, toxic], body) => t.update(proxy!, toxic!, await body()),
        DELETE: ([proxy, toxic]) => t.remove(proxy!, toxic!),
      },
    },
    {
      pattern: ["version"],
      methods: {
        GET: async () => ({
          status: 200,
          body: `{"version": "${VERSION}"}\n`,
          contentType: "application/json;charset=utf-8",
        }),
      },
    },
  ];
  if (metrics?.enabled) {
    const scrape: Handler = async () => ({
      status: 200,
      body: await metrics.render(),
      contentType: metrics.contentType,
    });
    table.push({ pattern: ["metrics"], methods: { "*": scrape } });
  }
  return table;
}

/** Matches a path against the table; `*` is one non-empty segment. */
function match(
  table: Routes,
  path: string,
): { methods: Record<string, Handler>; params: string[] } | undefined {
  const segments = path.split("/").slice(1);
  for (const route of table) {
    if (route.pattern.length !== segments.length) continue;
    const params: string[] = [];
    const ok = route.pattern.every((part, i) => {
      const segment = segments[i]!;
      if (part !== "*") return part === segment;
      params.push(segment);
      return segment !== "";
    });
    if (ok) return { methods: route.methods, params };
  }
  return undefined;
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string | number> = { ...reply.headers };
  if (reply.contentType) headers["Content-Type"] = reply.contentType;
  if (reply.body !== undefined) headers["Content-Length"] = Buffer.byteLength(reply.body);
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

/**
 * The Toxiproxy HTTP API as a node:http request listener. Requests are served concurrently: each body is
 * read on its own connection's time; only then does the handler run, one handler at a time, so that
 * concurrent changes to the same proxy cannot interleave (a listen or a stop is asynchronous).
 */
export function apiListener(proxies: ProxyCollection, metrics: ProxyMetrics | undefined, log: Logger) {
  const table = routes(proxies, metrics);
  let queue: Promise<unknown> = Promise.resolve();

  return (req: IncomingMessage, res: ServerResponse): void => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://toxiproxy").pathname);
    } catch {
      path = req.url ?? "/";
    }
    const route = match(table, path);
    // As gorilla/mux: unmatched routes bypass the middlewares (no request id, no browser check).
    if (!route) {
      send(res, plainError(404, "404 page not found"));
      return;
    }
    const method = req.method ?? "";
    const handler = Object.hasOwn(route.methods, method) ? route.methods[method] : route.methods["*"];
    if (!handler) {
      send(res, { status: 405 });
      return;
    }

    res.setHeader("X-Toxiproxy-Request-Id", requestId());
    if ((req.headers["user-agent"] ?? "").startsWith("Mozilla/")) {
      send(res, plainError(403, "User agent not allowed"));
      return;
    }
    const body = readBody(req);
    body.catch(() => undefined);
    const run = async (): Promise<Reply> => {
      try {
        return await handler(route.params, () => body);
      } catch (err) {
        if (err instanceof ApiError) return apiError(err);
        log.warn({ err }, "error did not include status code");
        return apiError(internalError(err instanceof Error ? err.message : String(err)));
      }
    };
    const turn = body.then(
      () => undefined,
      () => undefined,
    );
    const done = turn.then(() => {
      const next = queue.then(run);
      queue = next.catch(() => undefined);
      return next;
    });
    void done.then((reply) => {
      log.debug({ method: req.method, url: req.url, status: reply.status }, "api request");
      if (!res.headersSent && !res.destroyed) send(res, reply);
    });
  };
}

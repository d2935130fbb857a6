import http from "node:http";
import type { AddressInfo } from "node:net";

/** The ways an endpoint can misbehave once it has accepted a connection, or go away ("refuse"). */
export type HostileMode = "hang" | "reset" | "500" | "garbage" | "html" | "drip" | "refuse";
export const HOSTILE_MODES: readonly HostileMode[] = ["hang", "reset", "500", "garbage", "html", "drip"];

export interface Answer {
  status: number;
  body: string;
  contentType?: string;
}

export interface HostileOptions {
  /** How the endpoint answers while it is healthy. */
  healthy: (method: string, path: string, body: string) => Promise<Answer>;
  /** Misbehave once this many requests that `match` were answered (default 0: at once). */
  healthyFor?: number;
  /** The requests that misbehave (default: every one). */
  match?: (method: string, path: string) => boolean;
  /** Pass the request on to `healthy` first, then misbehave: it took effect but its answer is lost. */
  forwardFirst?: boolean;
}

export interface HostileServer {
  url: string;
  /** Every request seen, as "METHOD /path". */
  readonly seen: string[];
  /** Switches to another misbehaviour, or to answering well ("healthy"). */
  turn(mode: HostileMode | "healthy"): void;
  close(): Promise<void>;
}

const DRIP_EVERY_MS = 100;

/** Misbehaves on one request in `mode`. A hung or dripping answer lasts until the client gives up. */
function misbehave(
  mode: HostileMode,
  server: http.Server,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  switch (mode) {
    case "hang":
      return;
    case "refuse":
      // Stop listening: this connection ends, and every later one is refused.
      server.close();
      server.closeAllConnections();
      return;
    case "reset":
      req.socket.resetAndDestroy();
      return;
    case "500":
      res.writeHead(500, { "content-type": "text/plain" }).end("internal server error");
      return;
    case "garbage":
      req.socket.end("\x00\x7f\x1bnot HTTP at all\r\n\r\n");
      return;
    case "html":
      res
        .writeHead(200, { "content-type": "text/html" })
        .end("<html><body><h1>502 Bad Gateway</h1></body></html>");
      return;
    case "drip": {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100000" });
      const timer = setInterval(() => res.write(" "), DRIP_EVERY_MS);
      res.on("close", () => clearInterval(timer));
      return;
    }
  }
}

/**
 * An HTTP endpoint on 127.0.0.1 that answers well, then misbehaves: accepts and never answers, resets, answers
 * 500, sends bytes that are not HTTP, sends HTML, or drips its answer a byte at a time.
 */
export async function startHostile(mode: HostileMode, opts: HostileOptions): Promise<HostileServer> {
  let current: HostileMode | "healthy" = mode;
  let matched = 0;
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const method = req.method ?? "GET";
      const path = req.url ?? "/";
      seen.push(`${method} ${path}`);
      const body = Buffer.concat(chunks).toString("utf8");
      const hostile =
        current !== "healthy" && (opts.match?.(method, path) ?? true) && matched++ >= (opts.healthyFor ?? 0);
      try {
        if (!hostile || opts.forwardFirst) {
          const answer = await opts.healthy(method, path, body);
          if (!hostile) {
            res.writeHead(answer.status, { "content-type": answer.contentType ?? "application/json" });
            res.end(answer.body);
            return;
          }
        }
        misbehave(current as HostileMode, server, req, res);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    turn(next) {
      current = next;
      matched = opts.healthyFor ?? 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Prometheus instant-query answer: one series with `value`. */
export function prometheusAnswer(value: number): Answer {
  const result = [{ metric: {}, value: [Date.now() / 1000, String(value)] }];
  return { status: 200, body: JSON.stringify({ status: "success", data: { resultType: "vector", result } }) };
}

/** A range-vector answer, as Prometheus gives to a range query: the wrong shape for an instant query. */
export function prometheusMatrix(): Answer {
  const result = [{ metric: {}, values: [[Date.now() / 1000, "0"]] }];
  return { status: 200, body: JSON.stringify({ status: "success", data: { resultType: "matrix", result } }) };
}

/** Passes a request on to `base` (a real server) and returns its answer. */
export async function forwardTo(base: string, method: string, path: string, body: string): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    body: method === "GET" || method === "HEAD" ? undefined : body,
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(5000),
  });
  return {
    status: res.status,
    body: await res.text(),
    contentType: res.headers.get("content-type") ?? undefined,
  };
}

import http, { type IncomingHttpHeaders } from "node:http";
import { propagate } from "./tracing.js";

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Budget for the whole exchange, body included; absent = wait forever (the fragile way). */
  timeoutMs?: number;
}

/** The call did not complete within its budget. */
export class TimeoutError extends Error {
  constructor(url: string, timeoutMs: number) {
    super(`request to ${url} timed out after ${timeoutMs} ms`);
    this.name = "TimeoutError";
  }
}

/** The connection failed or broke before a full response arrived. */
export class NetworkError extends Error {
  constructor(
    url: string,
    readonly code: string,
    cause: unknown,
  ) {
    super(`request to ${url} failed: ${code}`, { cause });
    this.name = "NetworkError";
  }
}

/**
 * No connection reuse: every call opens a new connection, so a network fault injected while the app runs
 * applies to the very next call instead of hiding behind pooled sockets.
 */
const agent = new http.Agent({ keepAlive: false });

/**
 * Sends one HTTP request and reads the whole response. The timeout covers connect, headers and body, so a
 * response trickling in byte by byte (a bandwidth squeeze) is bounded as well as a silent one.
 * @throws TimeoutError when the budget runs out; NetworkError when the connection fails or breaks.
 */
export function request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = { ...opts.headers };
  propagate(headers);
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(payload));
  }
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      fn();
    };
    const req = http.request(url, { method: opts.method ?? "GET", headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", (error) => settle(() => reject(networkError(url, error))));
      res.on("aborted", () => settle(() => reject(new NetworkError(url, "ECONNRESET", undefined))));
      res.on("end", () => {
        if (!res.complete) {
          settle(() => reject(new NetworkError(url, "ECONNRESET", undefined)));
          return;
        }
        const text = Buffer.concat(chunks).toString("utf8");
        settle(() =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text) }),
        );
      });
    });
    if (opts.timeoutMs !== undefined) {
      const timeoutMs = opts.timeoutMs;
      timer = setTimeout(() => {
        settle(() => reject(new TimeoutError(url, timeoutMs)));
        req.destroy();
      }, timeoutMs);
    }
    req.on("error", (error) => settle(() => reject(networkError(url, error))));
    req.end(payload);
  });
}

function networkError(url: string, error: Error): NetworkError {
  const code = (error as NodeJS.ErrnoException).code ?? error.message;
  return new NetworkError(url, code, error);
}

function parseJson(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

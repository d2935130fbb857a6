import http from "node:http";
import https from "node:https";
import { performance } from "node:perf_hooks";
import { formatDuration } from "../../experiments/duration.js";

export interface HttpRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  insecure: boolean;
  /** Stop reading (and mark the response truncated) once this many bytes arrived. */
  bodyMax: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** From the request being sent to the last body byte read, in milliseconds. */
  latencyMs: number;
  body: Buffer;
  truncated: boolean;
  /** Response headers, names in lower case, repeated values joined with ", ". */
  headers: Record<string, string>;
}

/** Why a request produced no response, phrased for a journal line; never contains header values. */
export class RequestFailure extends Error {
  readonly hint?: string;
  constructor(reason: string, hint?: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    this.name = "RequestFailure";
    this.hint = hint;
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/;

/** Turns a socket-level error into a short reason and a hint. */
function describeFailure(err: NodeJS.ErrnoException, url: URL): RequestFailure {
  const code = err.code ?? "";
  switch (code) {
    case "ECONNREFUSED":
      return new RequestFailure("connection refused", `is anything listening on ${url.host}?`, err);
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
      return new RequestFailure(
        `DNS lookup failed for ${url.hostname} (${code})`,
        "check the host name",
        err,
      );
    case "ECONNRESET":
    case "EPIPE":
      return new RequestFailure("connection reset by the server", undefined, err);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new RequestFailure(`host unreachable (${code})`, undefined, err);
  }
  if (TLS_CODES.test(code)) {
    return new RequestFailure(
      `TLS error: ${err.message}`,
      "set insecure: true to skip certificate checks",
      err,
    );
  }
  // Node's own messages name headers, never their values, so they are safe to show.
  return new RequestFailure(code ? `${err.message} (${code})` : err.message, undefined, err);
}

/**
 * Sends one request on a fresh connection (no keep-alive: every probe pays, and measures, its own connect)
 * and reads at most `bodyMax` bytes of the response.
 * @throws RequestFailure when no complete response arrived: connection refused, DNS, TLS, timeout, abort.
 */
export function sendRequest(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const transport = req.url.protocol === "https:" ? https : http;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const fail = (failure: RequestFailure) => {
      finish(() => reject(failure));
      request.destroy();
    };

    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers["content-length"] = Buffer.byteLength(req.body);
    const request = transport.request(req.url, {
      method: req.method,
      headers,
      agent: false,
      ...(req.url.protocol === "https:" ? { rejectUnauthorized: !req.insecure } : {}),
    });

    const timer = setTimeout(
      () =>
        fail(
          new RequestFailure(
            `timed out after ${formatDuration(req.timeoutMs)}`,
            "raise timeout if the service is slow by design",
          ),
        ),
      req.timeoutMs,
    );
    const onAbort = () => fail(new RequestFailure("aborted (the run is stopping)"));
    if (req.signal?.aborted) {
      onAbort();
      return;
    }
    req.signal?.addEventListener("abort", onAbort, { once: true });

    request.on("error", (err: NodeJS.ErrnoException) => fail(describeFailure(err, req.url)));
    request.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (truncated: boolean) =>
        finish(() =>
          resolve({
            status: res.statusCode ?? 0,
            latencyMs: performance.now() - started,
            body: Buffer.concat(chunks, Math.min(size, req.bodyMax)),
            truncated,
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]),
            ),
          }),
        );
      res.on("data", (chunk: Buffer) => {
        if (settled) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size > req.bodyMax) {
          done(true);
          // Stop the transfer: a huge body must never be buffered.
          res.destroy();
          request.destroy();
        }
      });
      res.on("end", () => done(false));
      res.on("error", (err: NodeJS.ErrnoException) => fail(describeFailure(err, req.url)));
      res.on("aborted", () => fail(new RequestFailure("the server closed the connection mid-response")));
    });
    request.end(req.body);
  });
}

import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { ChaosError } from "../../experiments/errors.js";
import {
  describeHttpError,
  type HttpAnswer,
  PrometheusApiError,
  parseEnvelope,
  type QueryResult,
} from "./answer.js";
import type { PrometheusAuth } from "./config.js";

export type { QueryResult, RangeSeries, Sample } from "./answer.js";
export { PrometheusApiError, parseSampleValue } from "./answer.js";

/**
 * A small client for the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`).
 *
 *   query ─▶ POST form ─▶ 2xx {status:"success"} ─▶ QueryResult
 *                 │      └▶ 4xx {status:"error"}  ─▶ PrometheusApiError (no retry: the query is wrong)
 *                 └─ network error, timeout, 5xx  ─▶ retry with backoff + jitter ─▶ PrometheusUnreachableError
 *
 * node:http(s) rather than fetch: Node 20's fetch cannot take a custom CA without the undici package.
 * Every message it produces has the credentials scrubbed out.
 */

/** No usable answer after every attempt: refused, reset, timed out, or 5xx each time. */
export class PrometheusUnreachableError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    /** The HTTP status of the last answer when it was a 5xx; undefined when nothing answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = "PrometheusUnreachableError";
  }
}

export interface ClientOptions {
  url: string;
  auth?: PrometheusAuth;
  /** Path of a PEM file with the CA certificates to trust. */
  ca?: string;
  timeoutMs: number;
  retries: number;
  /** First backoff delay; doubles on each retry (default 100ms). */
  backoffMs?: number;
  /** Cap of one backoff delay (default 2s). */
  maxBackoffMs?: number;
}

export interface CallOptions {
  /** Aborts the query and its retries (the run was aborted). */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

class RetryableError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export class PrometheusClient {
  /** The server's URL without credentials, safe to print. */
  readonly displayUrl: string;
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private readonly agent: http.Agent;
  private readonly secrets: string[];

  /** @throws ChaosError("invalid") when the URL is not http(s) or the CA file cannot be read. */
  constructor(private readonly opts: ClientOptions) {
    this.base = new URL(opts.url);
    if (!/^https?:$/.test(this.base.protocol)) {
      throw new ChaosError("invalid", "configuration.prometheus.url must be an http:// or https:// URL");
    }
    if (!this.base.pathname.endsWith("/")) this.base.pathname += "/";
    const shown = new URL(this.base);
    shown.username = "";
    shown.password = "";
    this.displayUrl = shown.href.replace(/\/$/, "");

    this.headers = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
    this.secrets = [this.base.password, this.base.username].filter((s) => s.length >= 3);
    if (opts.auth && "bearer" in opts.auth) {
      this.headers.authorization = `Bearer ${opts.auth.bearer}`;
      this.secrets.push(opts.auth.bearer);
    } else if (opts.auth) {
      const { username, password } = opts.auth.basic;
      const token = Buffer.from(`${username}:${password}`).toString("base64");
      this.headers.authorization = `Basic ${token}`;
      this.secrets.push(token, password);
    }

    if (this.base.protocol === "https:") {
      let ca: Buffer | undefined;
      if (opts.ca !== undefined) {
        try {
          ca = readFileSync(opts.ca);
        } catch (err) {
          throw new ChaosError("invalid", `cannot read the CA file ${opts.ca}: ${(err as Error).message}`, {
            hint: "configuration.prometheus.ca must be the path of a PEM file",
          });
        }
      }
      this.agent = new https.Agent({ keepAlive: true, ca });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  /**
   * Evaluates `query` at one instant (now by default).
   * @throws PrometheusApiError, PrometheusUnreachableError, ChaosError("aborted") when `signal` aborts.
   */
  query(query: string, opts: CallOptions & { time?: number } = {}): Promise<QueryResult> {
    const form: Record<string, string> = { query };
    if (opts.time !== undefined) form.time = String(opts.time);
    return this.call("api/v1/query", form, opts);
  }

  /**
   * Evaluates `query` over [start, end] (unix seconds) every `step` seconds.
   * @throws PrometheusApiError, PrometheusUnreachableError, ChaosError("aborted") when `signal` aborts.
   */
  queryRange(
    query: string,
    range: { start: number; end: number; step: number },
    opts: CallOptions = {},
  ): Promise<QueryResult> {
    const form = { query, start: String(range.start), end: String(range.end), step: String(range.step) };
    return this.call("api/v1/query_range", form, opts);
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  /** Replaces every credential in `text` (token, password, their base64 form) by `***`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join("***");
    return out;
  }

  private async call(path: string, form: Record<string, string>, opts: CallOptions): Promise<QueryResult> {
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs;
    // Let Prometheus give up too, instead of computing an answer nobody waits for.
    const body = new URLSearchParams({
      ...form,
      timeout: `${Math.max(1, Math.ceil(timeoutMs))}ms`,
    }).toString();
    const attempts = this.opts.retries + 1;
    let last = new RetryableError("no attempt made");
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await this.backoff(attempt - 1, opts.signal);
      try {
        return parseEnvelope(await this.post(path, body, timeoutMs, opts.signal));
      } catch (err) {
        if (!(err instanceof RetryableError)) throw this.scrub(err);
        last = err;
      }
    }
    const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
    throw new PrometheusUnreachableError(
      this.redact(`${last.message} (after ${tries})`),
      attempts,
      last.status,
    );
  }

  private post(path: string, body: string, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
    if (signal?.aborted) return Promise.reject(aborted());
    const url = new URL(path, this.base);
    const timeout = AbortSignal.timeout(timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        if (signal?.aborted) reject(aborted());
        else if (timeout.aborted) reject(new RetryableError(`no answer within ${timeoutMs}ms`));
        else reject(new RetryableError(err.message || (err as NodeJS.ErrnoException).code || String(err)));
      };
      const req = (url.protocol === "https:" ? https : http).request(
        url,
        {
          method: "POST",
          agent: this.agent,
          headers: { ...this.headers, "content-length": Buffer.byteLength(body) },
          signal: both,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on("error", fail);
          res.on("end", () => {
            if (size > MAX_BODY_BYTES) return;
            const answer = { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") };
            if (answer.status >= 500) reject(new RetryableError(describeHttpError(answer), answer.status));
            else resolve(answer);
          });
        },
      );
      req.on("error", fail);
      req.end(body);
    });
  }

  private backoff(retry: number, signal?: AbortSignal): Promise<void> {
    const base = this.opts.backoffMs ?? 100;
    const cap = this.opts.maxBackoffMs ?? 2_000;
    const full = Math.min(cap, base * 2 ** retry);
    // Equal jitter: never less than half the delay, so retries still back off, but callers spread out.
    const ms = full / 2 + Math.random() * (full / 2);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(aborted());
      const onAbort = () => {
        clearTimeout(timer);
        reject(aborted());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private scrub(err: unknown): unknown {
    if (err instanceof PrometheusApiError) {
      return new PrometheusApiError(err.status, err.errorType, this.redact(err.message));
    }
    if (err instanceof ChaosError)
      return new ChaosError(err.code, this.redact(err.message), { hint: err.hint });
    return err;
  }
}

function aborted(): ChaosError {
  return new ChaosError("aborted", "Prometheus query aborted");
}

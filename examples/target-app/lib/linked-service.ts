import type { Server } from "node:http";
import type { Logger } from "pino";
import { TimeoutError } from "./http-client.js";
import { createServiceMetrics, type ServiceMetrics } from "./metrics.js";
import { POLICIES } from "./policies.js";
import type { Practices } from "./practices.js";
import { type Handler, type JsonReply, startServiceServer } from "./server.js";
import { createUpstream, type Upstream } from "./upstream.js";

export interface LinkedServiceOptions {
  service: string;
  /** The one service this one calls, through the link's proxy at `upstreamUrl`. */
  target: string;
  upstreamUrl: string;
  port: number;
  /** The address it listens on (default 127.0.0.1). */
  host?: string;
  practices: Practices;
  log: Logger;
}

export interface LinkedService {
  metrics: ServiceMetrics;
  /** The call to `target`, with the link's policy (timeouts, retries, breaker as the practices allow). */
  upstream: Upstream;
  /** Starts the HTTP server with these routes (plus /healthz and /metrics). @throws the listen error. */
  serve(routes: Record<string, Handler>): Promise<Server>;
}

/** A service that calls one other service: its metrics, its upstream with the link's policy, its server. */
export function linkedService(opts: LinkedServiceOptions): LinkedService {
  const { service, target, log } = opts;
  const metrics = createServiceMetrics(service, [target]);
  const upstream = createUpstream({
    service,
    target,
    baseUrl: opts.upstreamUrl,
    policy: POLICIES[`${service}->${target}` as keyof typeof POLICIES],
    practices: opts.practices,
    metrics,
    log,
  });
  return {
    metrics,
    upstream,
    serve: (routes) =>
      startServiceServer({ service, port: opts.port, host: opts.host, metrics, log, routes }),
  };
}

/** The answer when the upstream call failed: 504 when it timed out, 502 otherwise. */
export function upstreamFailure(error: unknown, extra: Record<string, unknown> = {}): JsonReply {
  return { status: error instanceof TimeoutError ? 504 : 502, body: { ...extra, error: String(error) } };
}

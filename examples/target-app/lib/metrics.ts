import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Latency buckets (seconds), dense between 50 ms and 5 s so that a p99 near the 1 s thresholds of the
 * bundled experiments is judged from neighbouring buckets, not interpolated across a wide one.
 */
export const LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 2,
  2.5, 3, 4, 5, 7.5, 10, 15,
];

/** The metrics every service exports, each in the service's own registry. */
export interface ServiceMetrics {
  registry: Registry;
  httpRequests: Counter<"service" | "route" | "code">;
  httpDuration: Histogram<"service" | "route">;
  clientRetries: Counter<"service" | "target">;
  breakerState: Gauge<"service" | "target">;
  breakerFallbacks: Counter<"service" | "target">;
}

/**
 * Creates the registry of one service with default process metrics. Series for each upstream target start
 * at zero, so that `increase()` over them is 0 rather than empty before the first retry or fallback.
 * Never throws.
 */
export function createServiceMetrics(service: string, targets: readonly string[] = []): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics: ServiceMetrics = {
    registry,
    httpRequests: new Counter({
      name: "http_requests_total",
      help: "HTTP requests served, by route and status code.",
      labelNames: ["service", "route", "code"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "Time to serve an HTTP request.",
      labelNames: ["service", "route"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    clientRetries: new Counter({
      name: "client_retries_total",
      help: "Retries of outbound calls (attempts after the first).",
      labelNames: ["service", "target"],
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: "circuit_breaker_state",
      help: "Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.",
      labelNames: ["service", "target"],
      registers: [registry],
    }),
    breakerFallbacks: new Counter({
      name: "circuit_breaker_fallbacks_total",
      help: "Requests answered by a fallback because the upstream failed or its breaker was open.",
      labelNames: ["service", "target"],
      registers: [registry],
    }),
  };
  for (const target of targets) {
    metrics.clientRetries.inc({ service, target }, 0);
    metrics.breakerState.set({ service, target }, 0);
    metrics.breakerFallbacks.inc({ service, target }, 0);
  }
  return metrics;
}

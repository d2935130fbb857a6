import type { Server } from "node:http";
import type { Logger } from "pino";
import { Counter, Gauge, Histogram } from "prom-client";
import { request } from "../lib/http-client.js";
import { createServiceMetrics, LATENCY_BUCKETS } from "../lib/metrics.js";
import { startServiceServer } from "../lib/server.js";

export interface LoadgenConfig {
  port: number;
  /** web's base URL; requests go to POST /checkout. */
  targetUrl: string;
  /** Requests per second, sent at a steady pace whatever the answers (open loop). */
  rate: number;
  /** The client gives up on a request after this long and counts an error. */
  timeoutMs: number;
  /** Requests in flight beyond this are not sent but counted as errors, so a stuck app cannot pile up sockets. */
  maxInFlight: number;
  /** Stop sending after this long; absent = until the process stops. */
  durationMs?: number;
  log: Logger;
}

export interface Loadgen {
  server: Server;
  stop(): void;
}

/**
 * Starts the load generator and its /metrics: loadgen_requests_total{outcome="ok|error"} (ok = 2xx) and
 * loadgen_request_duration_seconds (every request, whatever its outcome): the users' view of the shop.
 * Open loop, so a slow app does not slow the load down and hide its own latency.
 * @throws the listen error.
 */
export async function startLoadgen(config: LoadgenConfig): Promise<Loadgen> {
  const service = "loadgen";
  const metrics = createServiceMetrics(service);
  const requests = new Counter({
    name: "loadgen_requests_total",
    help: "Checkout requests sent by the load generator, by outcome (ok = 2xx answer).",
    labelNames: ["outcome"],
    registers: [metrics.registry],
  });
  const duration = new Histogram({
    name: "loadgen_request_duration_seconds",
    help: "Checkout latency seen by the load generator, errors and timeouts included.",
    buckets: LATENCY_BUCKETS,
    registers: [metrics.registry],
  });
  const inFlightGauge = new Gauge({
    name: "loadgen_in_flight_requests",
    help: "Checkout requests sent and not yet answered.",
    registers: [metrics.registry],
  });
  requests.inc({ outcome: "ok" }, 0);
  requests.inc({ outcome: "error" }, 0);

  let inFlight = 0;
  const fire = () => {
    if (inFlight >= config.maxInFlight) {
      requests.inc({ outcome: "error" });
      return;
    }
    inFlight++;
    inFlightGauge.set(inFlight);
    const stopTimer = duration.startTimer();
    request(`${config.targetUrl}/checkout`, {
      method: "POST",
      body: { amount: 4200 },
      timeoutMs: config.timeoutMs,
    })
      .then(
        (response) => (response.status >= 200 && response.status < 300 ? "ok" : "error"),
        () => "error" as const,
      )
      .then((outcome) => {
        stopTimer();
        requests.inc({ outcome });
        inFlight--;
        inFlightGauge.set(inFlight);
      });
  };
  const server = await startServiceServer({
    service,
    port: config.port,
    metrics,
    log: config.log,
    routes: {},
  });
  const timer = setInterval(fire, 1000 / config.rate);
  const stop = () => clearInterval(timer);
  if (config.durationMs !== undefined) setTimeout(stop, config.durationMs).unref();
  config.log.info({ rate: config.rate, target: config.targetUrl }, "load started");
  return { server, stop };
}

import type { Server } from "node:http";
import type { Logger } from "pino";
import { Gauge } from "prom-client";
import { linkedService, upstreamFailure } from "../lib/linked-service.js";
import type { ServiceMetrics } from "../lib/metrics.js";
import { POLICIES } from "../lib/policies.js";
import type { Practices } from "../lib/practices.js";
import { createUpstream } from "../lib/upstream.js";

export interface PaymentsConfig {
  port: number;
  gatewayUrl: string;
  /** The address it listens on (default 127.0.0.1). */
  host?: string;
  /** The database stand-in each payment is recorded in; absent = no records kept. */
  dbUrl?: string;
  practices: Practices;
  log: Logger;
}

/**
 * Starts payments: POST /payments charges the order at the gateway, passing the order's Idempotency-Key on
 * every attempt. 201 {status:"paid"} when charged. When the gateway fails or its breaker is open, the
 * fallback answers 202 {status:"pending"}: the order is accepted and the charge is left to be settled later
 * (as a shop would rather take the order than lose it). With the breaker practice off there is no fallback:
 * 504 on a timeout, 502 otherwise.
 *
 * With a database (`dbUrl`), each answer is recorded there before it is sent (POST /records). With timeouts
 * on, a record not written within 200 ms goes to an outbox written later, so checkout never waits on the
 * database; with them off, checkout waits for the database however long it takes.
 * @throws the listen error.
 */
export async function startPayments(config: PaymentsConfig): Promise<Server> {
  const {
    metrics,
    upstream: gateway,
    serve,
  } = linkedService({
    service: "payments",
    target: "gateway",
    upstreamUrl: config.gatewayUrl,
    port: config.port,
    ...(config.host ? { host: config.host } : {}),
    practices: config.practices,
    log: config.log,
  });
  const record = config.dbUrl ? recorder(config, config.dbUrl, metrics) : async () => {};

  return serve({
    "POST /payments": async ({ headers, body }) => {
      const input = (body ?? {}) as { orderId?: unknown; amount?: unknown };
      const key = headers["idempotency-key"];
      if (typeof input.orderId !== "string" || typeof input.amount !== "number" || typeof key !== "string") {
        return {
          status: 400,
          body: { error: "orderId, amount and an Idempotency-Key header are required" },
        };
      }
      try {
        const response = await gateway.post(
          "/charges",
          { amount: input.amount, currency: "eur", orderId: input.orderId },
          { "idempotency-key": key },
        );
        if (response.status >= 400)
          return { status: 402, body: { status: "declined", orderId: input.orderId } };
        const chargeId = (response.json as { id?: string } | undefined)?.id;
        await record(input.orderId, "paid");
        return { status: 201, body: { status: "paid", orderId: input.orderId, chargeId } };
      } catch (error) {
        if (gateway.hasBreaker) {
          metrics.breakerFallbacks.inc({ service: "payments", target: "gateway" });
          await record(input.orderId, "pending");
          return { status: 202, body: { status: "pending", orderId: input.orderId } };
        }
        config.log.warn({ err: String(error), orderId: input.orderId }, "charge failed");
        return upstreamFailure(error);
      }
    },
  });
}

const OUTBOX_MAX = 10_000;
const OUTBOX_FLUSH_MS = 1000;

/**
 * Records payments in the database under the "payments->db" policy. A record that fails (timed out, refused)
 * goes to a bounded outbox, written again every second in order until the database takes them.
 * @returns record(orderId, status): resolves once written or queued (never throws).
 */
function recorder(
  config: PaymentsConfig,
  dbUrl: string,
  metrics: ServiceMetrics,
): (orderId: string, status: string) => Promise<void> {
  const db = createUpstream({
    service: "payments",
    target: "db",
    baseUrl: dbUrl,
    policy: POLICIES["payments->db"],
    practices: config.practices,
    metrics,
    log: config.log,
  });
  const outbox: Array<{ orderId: string; status: string }> = [];
  new Gauge({
    name: "payments_outbox_records",
    help: "Payment records waiting in the outbox for the database.",
    registers: [metrics.registry],
    collect() {
      this.set(outbox.length);
    },
  });
  let flushing = false;
  const flush = async () => {
    if (flushing) return;
    flushing = true;
    try {
      while (outbox.length > 0) {
        await db.post("/records", outbox[0]);
        outbox.shift();
      }
    } catch {
      // Still unreachable: the next flush tries again.
    } finally {
      flushing = false;
    }
  };
  setInterval(() => void flush(), OUTBOX_FLUSH_MS).unref();
  return async (orderId, status) => {
    try {
      await db.post("/records", { orderId, status });
    } catch (error) {
      config.log.debug({ err: String(error), orderId }, "record queued in the outbox");
      outbox.push({ orderId, status });
      if (outbox.length > OUTBOX_MAX) outbox.shift();
    }
  };
}

import type { Server } from "node:http";
import type { Logger } from "pino";
import { linkedService, upstreamFailure } from "../lib/linked-service.js";
import type { Practices } from "../lib/practices.js";

export interface PaymentsConfig {
  port: number;
  gatewayUrl: string;
  practices: Practices;
  log: Logger;
}

/**
 * Starts payments: POST /payments charges the order at the gateway, passing the order's Idempotency-Key on
 * every attempt. 201 {status:"paid"} when charged. When the gateway fails or its breaker is open, the
 * fallback answers 202 {status:"pending"}: the order is accepted and the charge is left to be settled later
 * (as a shop would rather take the order than lose it). With the breaker practice off there is no fallback:
 * 504 on a timeout, 502 otherwise.
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
    practices: config.practices,
    log: config.log,
  });

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
        return { status: 201, body: { status: "paid", orderId: input.orderId, chargeId } };
      } catch (error) {
        if (gateway.hasBreaker) {
          metrics.breakerFallbacks.inc({ service: "payments", target: "gateway" });
          return { status: 202, body: { status: "pending", orderId: input.orderId } };
        }
        config.log.warn({ err: String(error), orderId: input.orderId }, "charge failed");
        return upstreamFailure(error);
      }
    },
  });
}

import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { Logger } from "pino";
import { linkedService, upstreamFailure } from "../lib/linked-service.js";
import type { Practices } from "../lib/practices.js";

export interface OrdersConfig {
  port: number;
  paymentsUrl: string;
  practices: Practices;
  log: Logger;
}

/**
 * Starts orders: POST /orders creates an order and pays it through payments with one Idempotency-Key per
 * order, reused on every retry. 201 with the payment's status ("paid" or "pending"); 504 when payments timed
 * out, 502 when it failed.
 * @throws the listen error.
 */
export async function startOrders(config: OrdersConfig): Promise<Server> {
  const { upstream: payments, serve } = linkedService({
    service: "orders",
    target: "payments",
    upstreamUrl: config.paymentsUrl,
    port: config.port,
    practices: config.practices,
    log: config.log,
  });

  return serve({
    "POST /orders": async ({ body }) => {
      const amount = (body as { amount?: unknown } | undefined)?.amount;
      if (typeof amount !== "number" || amount <= 0) {
        return { status: 400, body: { error: "amount must be a positive number" } };
      }
      const orderId = randomUUID();
      try {
        const response = await payments.post(
          "/payments",
          { orderId, amount },
          { "idempotency-key": `order-${orderId}` },
        );
        if (response.status >= 400)
          return { status: 502, body: { orderId, error: `payments ${response.status}` } };
        return { status: 201, body: { orderId, amount, payment: response.json } };
      } catch (error) {
        config.log.warn({ err: String(error), orderId }, "payment failed");
        return upstreamFailure(error, { orderId });
      }
    },
  });
}

import type { Server } from "node:http";
import type { Logger } from "pino";
import { linkedService, upstreamFailure } from "../lib/linked-service.js";
import type { Practices } from "../lib/practices.js";

export interface WebConfig {
  port: number;
  ordersUrl: string;
  practices: Practices;
  log: Logger;
}

/**
 * Starts web, the shop's front: POST /checkout {amount?} places an order through orders. 201 with the
 * order; 504 when orders timed out, 502 when it failed.
 * @throws the listen error.
 */
export async function startWeb(config: WebConfig): Promise<Server> {
  const { upstream: orders, serve } = linkedService({
    service: "web",
    target: "orders",
    upstreamUrl: config.ordersUrl,
    port: config.port,
    practices: config.practices,
    log: config.log,
  });

  return serve({
    "POST /checkout": async ({ body }) => {
      const amount = (body as { amount?: unknown } | undefined)?.amount ?? 4200;
      try {
        const response = await orders.post("/orders", { amount });
        if (response.status >= 400) return { status: 502, body: { error: `orders ${response.status}` } };
        return { status: 201, body: response.json };
      } catch (error) {
        return upstreamFailure(error);
      }
    },
  });
}

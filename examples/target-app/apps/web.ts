import type { Server } from "node:http";
import type { Logger } from "pino";
import { TimeoutError } from "../lib/http-client.js";
import { createServiceMetrics } from "../lib/metrics.js";
import { POLICIES } from "../lib/policies.js";
import type { Practices } from "../lib/practices.js";
import { startServiceServer } from "../lib/server.js";
import { createUpstream } from "../lib/upstream.js";

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
  const service = "web";
  const target = "orders";
  const metrics = createServiceMetrics(service, [target]);
  const orders = createUpstream({
    service,
    target,
    baseUrl: config.ordersUrl,
    policy: POLICIES["web->orders"],
    practices: config.practices,
    metrics,
    log: config.log,
  });

  return startServiceServer({
    service,
    port: config.port,
    metrics,
    log: config.log,
    routes: {
      "POST /checkout": async ({ body }) => {
        const amount = (body as { amount?: unknown } | undefined)?.amount ?? 4200;
        try {
          const response = await orders.post("/orders", { amount });
          if (response.status >= 400) return { status: 502, body: { error: `orders ${response.status}` } };
          return { status: 201, body: response.json };
        } catch (error) {
          return { status: error instanceof TimeoutError ? 504 : 502, body: { error: String(error) } };
        }
      },
    },
  });
}

import type { Server } from "node:http";
import type { Logger } from "pino";
import { Counter } from "prom-client";
import { createServiceMetrics } from "../lib/metrics.js";
import { startServiceServer } from "../lib/server.js";

export interface DbConfig {
  port: number;
  /** The address it listens on (default 127.0.0.1). */
  host?: string;
  log: Logger;
}

/**
 * Starts the database stand-in payments records each payment in: POST /records keeps `{ orderId, status }`
 * (the last 20,000) and answers 201. It is a separate service on the network, so a partition between
 * payments and it is felt as a real database's would be.
 * @throws the listen error.
 */
export async function startDb(config: DbConfig): Promise<Server> {
  const metrics = createServiceMetrics("db");
  const written = new Counter({
    name: "db_records_written_total",
    help: "Payment records written.",
    registers: [metrics.registry],
  });
  const records = new Map<string, string>();
  return startServiceServer({
    service: "db",
    port: config.port,
    ...(config.host ? { host: config.host } : {}),
    metrics,
    log: config.log,
    routes: {
      "POST /records": async ({ body }) => {
        const input = (body ?? {}) as { orderId?: unknown; status?: unknown };
        if (typeof input.orderId !== "string" || typeof input.status !== "string") {
          return { status: 400, body: { error: "orderId and status are required" } };
        }
        records.delete(input.orderId);
        records.set(input.orderId, input.status);
        if (records.size > 20_000) records.delete(records.keys().next().value!);
        written.inc();
        return { status: 201, body: { orderId: input.orderId } };
      },
    },
  });
}

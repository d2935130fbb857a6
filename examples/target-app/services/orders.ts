import { startOrders } from "../apps/orders.js";
import { envPort, envUrl } from "../lib/env.js";
import { serviceLogger } from "../lib/logger.js";
import { parseFragile } from "../lib/practices.js";
import { exitWithSupervisor } from "../lib/server.js";
import { startTracing } from "../lib/tracing.js";

const log = serviceLogger("orders");
await startTracing("orders", log);
const server = await startOrders({
  port: envPort("PORT"),
  paymentsUrl: envUrl("PAYMENTS_URL"),
  practices: parseFragile(process.env["FRAGILE"]),
  log,
});
exitWithSupervisor(server, log);

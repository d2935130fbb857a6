import { startOrders } from "../apps/orders.js";
import { envPort, envUrl } from "../lib/env.js";
import { serviceLogger } from "../lib/logger.js";
import { parseFragile } from "../lib/practices.js";
import { exitWithSupervisor } from "../lib/server.js";

const log = serviceLogger("orders");
const server = await startOrders({
  port: envPort("PORT"),
  paymentsUrl: envUrl("PAYMENTS_URL"),
  practices: parseFragile(process.env["FRAGILE"]),
  log,
});
exitWithSupervisor(server, log);

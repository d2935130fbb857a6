import { startWeb } from "../apps/web.js";
import { envPort, envUrl } from "../lib/env.js";
import { serviceLogger } from "../lib/logger.js";
import { parseFragile } from "../lib/practices.js";
import { exitWithSupervisor } from "../lib/server.js";
import { startTracing } from "../lib/tracing.js";

const log = serviceLogger("web");
await startTracing("web", log);
const server = await startWeb({
  port: envPort("PORT"),
  ordersUrl: envUrl("ORDERS_URL"),
  practices: parseFragile(process.env["FRAGILE"]),
  log,
});
exitWithSupervisor(server, log);

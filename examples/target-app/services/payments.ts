import { startPayments } from "../apps/payments.js";
import { envPort, envUrl } from "../lib/env.js";
import { serviceLogger } from "../lib/logger.js";
import { parseFragile } from "../lib/practices.js";
import { exitWithSupervisor } from "../lib/server.js";
import { startTracing } from "../lib/tracing.js";

const log = serviceLogger("payments");
await startTracing("payments", log);
const server = await startPayments({
  port: envPort("PORT"),
  gatewayUrl: envUrl("GATEWAY_URL"),
  ...(process.env["HOST"] ? { host: process.env["HOST"] } : {}),
  ...(process.env["DB_URL"] ? { dbUrl: envUrl("DB_URL") } : {}),
  practices: parseFragile(process.env["FRAGILE"]),
  log,
});
exitWithSupervisor(server, log);

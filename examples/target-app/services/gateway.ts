import { startGateway } from "../apps/gateway.js";
import { envNumber, envPort } from "../lib/env.js";
import { serviceLogger } from "../lib/logger.js";
import { parseFragile } from "../lib/practices.js";
import { exitWithSupervisor } from "../lib/server.js";
import { startTracing } from "../lib/tracing.js";

const log = serviceLogger("gateway");
await startTracing("gateway", log);
const server = await startGateway({
  port: envPort("PORT"),
  practices: parseFragile(process.env["FRAGILE"]),
  processingMs: envNumber("GATEWAY_PROCESSING_MS", 5),
  log,
});
exitWithSupervisor(server, log);

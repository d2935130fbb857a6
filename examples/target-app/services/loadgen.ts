import { startLoadgen } from "../apps/loadgen.js";
import { envNumber, envPort, envUrl } from "../lib/env.js";
import { serviceLogger } from "../lib/logger.js";
import { exitWithSupervisor } from "../lib/server.js";

const log = serviceLogger("loadgen");
const durationS = process.env["LOAD_DURATION_S"] ? envNumber("LOAD_DURATION_S", 0) : undefined;
const loadgen = await startLoadgen({
  port: envPort("PORT"),
  targetUrl: envUrl("TARGET_URL"),
  rate: envNumber("RATE", 20),
  timeoutMs: envNumber("TIMEOUT_MS", 10_000),
  maxInFlight: envNumber("MAX_IN_FLIGHT", 500),
  durationMs: durationS === undefined ? undefined : durationS * 1000,
  log,
});
exitWithSupervisor(loadgen.server, log);

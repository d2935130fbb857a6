import { startDb } from "../apps/db.js";
import { envPort } from "../lib/env.js";
import { serviceLogger } from "../lib/logger.js";
import { exitWithSupervisor } from "../lib/server.js";

const log = serviceLogger("db");
const server = await startDb({ port: envPort("PORT"), host: process.env["HOST"] || undefined, log });
exitWithSupervisor(server, log);

import type { CommandModule } from "yargs";
import { ChaosError } from "../experiments/errors.js";
import { loadProxyConfig, readProxyConfigLeniently } from "../proxy/config.js";
import { startToxiproxyServer } from "../proxy/server.js";
import { exitWith, type GlobalArgs } from "./context.js";
import { createLogger } from "./logger.js";

interface Args extends GlobalArgs {
  host: string;
  port: number;
  config?: string;
  "proxy-metrics": boolean;
  "runtime-metrics": boolean;
  "strict-config": boolean;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/**
 * Checks `--host` before anything listens: an empty host would bind the unauthenticated admin API on every
 * interface. Any address other than loopback must be written out, and earns a warning.
 * @throws ChaosError("invalid") for an empty or blank host.
 */
function readHost(host: string): string {
  if (host.trim() === "") {
    throw new ChaosError(
      "invalid",
      "--host must not be empty: it would listen on every interface (omit --host for 127.0.0.1, or write --host 0.0.0.0 to mean every interface)",
    );
  }
  return host;
}

const isLoopback = (host: string) => /^(127(\.\d{1,3}){3}|::1|\[::1\]|localhost)$/i.test(host);

/**
 * Checks `--port` before anything listens, so a typo is a usage error (exit 2), not a failed start.
 * @throws ChaosError("invalid") unless the port is a whole number from 0 to 65535.
 */
function readPort(port: number): number {
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  throw new ChaosError("invalid", `--port must be a whole number from 0 to 65535, not ${port}`);
}

export const proxyCommand: CommandModule<GlobalArgs, Args> = {
  command: "proxy",
  describe: "run the embedded Toxiproxy-compatible proxy (same HTTP API) until SIGINT/SIGTERM",
  builder: (y) =>
    y
      .option("host", {
        type: "string",
        default: "127.0.0.1",
        describe: "address of the HTTP API (anything but loopback exposes an API without authentication)",
        coerce: readHost,
      })
      .option("port", {
        type: "number",
        default: 8474,
        describe: "port of the HTTP API (0 = any free port)",
        coerce: readPort,
      })
      .option("config", {
        type: "string",
        describe: "JSON file with an array of proxies to create at start, as Toxiproxy's -config",
      })
      .option("strict-config", {
        type: "boolean",
        default: false,
        describe: "refuse to start when --config is unreadable, malformed or a proxy cannot listen",
      })
      .option("proxy-metrics", {
        alias: "metrics",
        type: "boolean",
        default: false,
        describe:
          "serve the proxies' byte counters on /metrics of the API (toxiproxy_proxy_received_bytes_total, toxiproxy_proxy_sent_bytes_total), as Toxiproxy's -proxy-metrics",
      })
      .option("runtime-metrics", {
        type: "boolean",
        default: false,
        describe:
          "serve the process's own metrics (process_*, nodejs_*) on /metrics, as Toxiproxy's -runtime-metrics",
      }) as never,
  handler: (args) =>
    exitWith(async () => {
      const log = createLogger(args["log-level"], args["log-format"] ?? "json");
      if (!isLoopback(args.host)) {
        process.stderr.write(
          `warning: the proxy API on ${args.host} has no authentication: anyone who can reach it can add faults\n`,
        );
      }
      const strict = args["strict-config"];
      const proxies = !args.config
        ? []
        : strict
          ? await loadProxyConfig(args.config)
          : await readProxyConfigLeniently(args.config, log);
      const stopped = untilSignal();
      const server = await startToxiproxyServer({
        host: args.host,
        port: args.port,
        proxies,
        metrics: args["proxy-metrics"],
        runtimeMetrics: args["runtime-metrics"],
        lenientConfig: !strict,
        logger: log,
      });
      const signal = await stopped;
      log.info({ signal }, "shutting down");
      await server.close();
      return 0;
    }),
};

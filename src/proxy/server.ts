import http from "node:http";
import type { AddressInfo } from "node:net";
import { type Logger, pino } from "pino";
import { ChaosError } from "../experiments/errors.js";
import { apiListener } from "./api.js";
import { ApiError } from "./api-error.js";
import { ProxyCollection } from "./collection.js";
import { ProxyMetrics } from "./metrics.js";
import { TlsConfigError, type TlsSettings } from "./tls.js";

export interface ProxyConfig {
  name: string;
  listen: string;
  upstream: string;
  enabled?: boolean;
  /** Terminate TLS from clients with these files; absent: TLS passes through untouched. */
  tls?: TlsSettings;
}

export interface ToxiproxyServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8474; 0 picks a free port. */
  port?: number;
  /** Proxies created at start, as Toxiproxy's `-config` file. */
  proxies?: ProxyConfig[];
  /**
   * As Toxiproxy's `-config`: a configured proxy that cannot listen is logged and the server starts with
   * the proxies created before it. Without it (the default for callers in code) that is an error.
   */
  lenientConfig?: boolean;
  /** Serve /metrics with the proxies' byte counters (Toxiproxy's `-proxy-metrics`). */
  metrics?: boolean;
  /** Serve /metrics with the process's own metrics (Toxiproxy's `-runtime-metrics`). */
  runtimeMetrics?: boolean;
  /**
   * How long a client may take to send a whole request, headers and body (Toxiproxy's read timeout,
   * 15 s). A slower one gets 408 and holds up no other client.
   */
  requestTimeoutMs?: number;
  logger?: Logger;
}

export interface ToxiproxyServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Closes the API, every proxy listener and every live connection. */
  close(): Promise<void>;
}

/**
 * Starts an embedded, Toxiproxy-compatible server: the HTTP API plus the proxies it manages.
 * @throws ChaosError("agent") when the API port cannot listen, or (unless lenientConfig) a configured proxy;
 *         ChaosError("invalid") when a configured proxy's TLS files are unusable (lenient or not: a proxy
 *         asked to terminate TLS never starts as one that passes it through).
 */
export async function startToxiproxyServer(opts: ToxiproxyServerOptions = {}): Promise<ToxiproxyServer> {
  const host = opts.host ?? "127.0.0.1";
  const log = opts.logger ?? pino({ enabled: false });
  const metrics = new ProxyMetrics({ proxy: opts.metrics, runtime: opts.runtimeMetrics });
  const proxies = new ProxyCollection({
    log,
    counters: (direction, proxy) => metrics.counters(direction, proxy.name, proxy.listen, proxy.upstream),
  });

  const requestTimeout = opts.requestTimeoutMs ?? 15_000;
  const api = http.createServer(
    {
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.min(1000, requestTimeout / 2),
      maxHeaderSize: (1 << 20) + 4096, // Go's http.DefaultMaxHeaderBytes, with its slack
    },
    apiListener(proxies, metrics, log),
  );
  api.keepAliveTimeout = 60_000;
  try {
    await new Promise<void>((resolve, reject) => {
      api.once("error", reject);
      api.listen({ host, port: opts.port ?? 8474 }, () => {
        api.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    throw new ChaosError(
      "agent",
      `toxiproxy API could not listen on ${host}:${opts.port ?? 8474}: ${(err as Error).message}`,
      {
        cause: err,
        hint: "choose another port (--port), or stop the process that holds it",
      },
    );
  }
  const port = (api.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const server: ToxiproxyServer = {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    close() {
      closing ??= (async () => {
        const apiClosed = new Promise<void>((resolve) => api.close(() => resolve()));
        api.closeAllConnections();
        await Promise.all([apiClosed, proxies.closeAll()]);
        log.info({ url: server.url }, "toxiproxy stopped");
      })();
      return closing;
    },
  };

  const { applied, error } = await proxies.populate(
    (opts.proxies ?? []).map((config) => ({ ...config, enabled: config.enabled ?? true })),
  );
  if (error !== undefined) {
    const reason = error instanceof ApiError ? error.message : String(error);
    const failed = opts.proxies?.[applied.length]?.name;
    if (error instanceof TlsConfigError) {
      await server.close();
      throw new ChaosError("invalid", error.message, {
        hint: "tls.cert and tls.key are paths to a readable PEM certificate and its unencrypted key",
      });
    }
    if (!opts.lenientConfig) {
      await server.close();
      throw new ChaosError("agent", `proxy ${failed} could not start: ${reason}`, {
        cause: error,
        hint: "check its listen address and that the port is free",
      });
    }
    log.error({ proxy: failed, err: reason }, "failed to populate proxies from config");
  }
  log.info({ url: server.url, proxies: applied.length }, "toxiproxy API listening");
  return server;
}

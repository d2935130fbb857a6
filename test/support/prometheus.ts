import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import { describe } from "vitest";
import {
  findPrometheusBinary,
  type RunningPrometheus,
  startPrometheus,
} from "../../examples/target-app/prometheus-server.js";

/**
 * Helpers for suites that need a real Prometheus. Without the binary a suite is skipped on a developer's
 * machine, but fails in CI (CI must install it, so a green run never hides a skipped suite).
 */

export const prometheusBinary = findPrometheusBinary();
export const hasPrometheus = prometheusBinary !== undefined;

/** `describe` when Prometheus is installed or we run in CI (where its absence must fail), else `describe.skip`. */
export const describeWithPrometheus = hasPrometheus || process.env.CI ? describe : describe.skip;

/**
 * The binary path, for a suite's beforeAll.
 * @throws Error when the binary is missing (in CI this fails the suite on purpose).
 */
export function requirePrometheus(): string {
  if (prometheusBinary) return prometheusBinary;
  throw new Error(
    "the prometheus binary is missing: CI must install it (apt-get install -y --no-install-recommends " +
      "prometheus), or set PROMETHEUS_BINARY",
  );
}

/**
 * Starts a Prometheus that scrapes `targets` every second.
 * @throws Error when the binary is missing, ChaosError("agent") when it does not start.
 */
export function startTestPrometheus(targets: string[]): Promise<RunningPrometheus> {
  return startPrometheus({ binary: requirePrometheus(), scrapeTargets: targets, scrapeInterval: "1s" });
}

export interface MetricsEndpoint {
  /** `127.0.0.1:port`, as a scrape target. */
  target: string;
  /** How many scrapes it answered. */
  scrapes(): number;
  close(): Promise<void>;
}

/** Serves a prom-client registry on http://127.0.0.1:<free port>/metrics. Throws when it cannot listen. */
export async function serveMetrics(registry: Registry): Promise<MetricsEndpoint> {
  let scrapes = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    scrapes++;
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    target: `127.0.0.1:${port}`,
    scrapes: () => scrapes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Polls an instant query until `accept` returns true for its `data.result` (e.g. a value was scraped).
 * @throws Error after `timeoutMs` with the last answer.
 */
export async function waitForQuery(
  url: string,
  query: string,
  accept: (result: unknown) => boolean,
  timeoutMs = 15_000,
): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`, {
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await res.json()) as { data?: { result?: unknown } };
      last = body.data?.result;
      if (accept(last)) return last;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `query ${query} did not reach the expected answer in ${timeoutMs}ms; last: ${JSON.stringify(last)}`,
  );
}

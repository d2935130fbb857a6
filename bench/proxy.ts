import { Worker } from "node:worker_threads";
import { startToxiproxyServer } from "../src/proxy/server.js";
import type { TrafficRequest } from "./proxy-traffic.js";

/** Targets from the issue: what "good enough" means for the embedded proxy. */
const TARGET_THROUGHPUT_RATIO = 0.8;
const TARGET_ADDED_P50_US = 100;
const TARGET_LATENCY_ERROR_MS = 2;

const BULK_BYTES = 1 << 30;
const RTT_COUNT = 5000;
const RTT_WARMUP = 500;
const RTT_SIZE = 64;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const median = (values: number[]): number => percentile(values, 50);

/** One request to the traffic worker, answered by one message. */
function ask<T>(worker: Worker, req: TrafficRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (value: T) => {
      worker.off("error", reject);
      resolve(value);
    };
    worker.once("message", onMessage);
    worker.once("error", reject);
    worker.postMessage(req);
  });
}

const verdict = (ok: boolean): string => (ok ? "ok" : "MISSED");

/**
 * Measures the embedded proxy against direct loopback in the same run: bulk throughput, small round trips,
 * and the accuracy of the latency toxic. Prints a table with ratios against the targets.
 * @throws when the proxy cannot start or the traffic worker fails.
 */
export async function benchProxy(): Promise<void> {
  const worker = new Worker(new URL("./proxy-traffic.js", import.meta.url));
  const ports = await ask<{ sink: number; echo: number }>(worker, { op: "start" });
  const server = await startToxiproxyServer({
    port: 0,
    proxies: [
      { name: "bulk", listen: "127.0.0.1:0", upstream: `127.0.0.1:${ports.sink}` },
      { name: "echo", listen: "127.0.0.1:0", upstream: `127.0.0.1:${ports.echo}` },
      { name: "lat", listen: "127.0.0.1:0", upstream: `127.0.0.1:${ports.echo}` },
    ],
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, { listen: string }>>;
  };
  try {
    const all = await api("GET", "/proxies");
    const portOf = (name: string) => Number(all[name]!.listen.split(":").pop());

    // Bulk: alternate direct and proxied runs so that machine noise hits both alike.
    const direct: number[] = [];
    const proxied: number[] = [];
    await ask(worker, { op: "bulk", port: ports.sink, bytes: BULK_BYTES / 4 }); // warm up
    await ask(worker, { op: "bulk", port: portOf("bulk"), bytes: BULK_BYTES / 4 });
    for (let i = 0; i < 3; i++) {
      direct.push(await ask<number>(worker, { op: "bulk", port: ports.sink, bytes: BULK_BYTES }));
      proxied.push(await ask<number>(worker, { op: "bulk", port: portOf("bulk"), bytes: BULK_BYTES }));
    }
    const throughputRatio = median(proxied) / median(direct);

    const rtt = async (port: number) => {
      const times = await ask<number[]>(worker, {
        op: "rtt",
        port,
        count: RTT_COUNT + RTT_WARMUP,
        size: RTT_SIZE,
      });
      const measured = times.slice(RTT_WARMUP);
      return { p50: percentile(measured, 50), p99: percentile(measured, 99) };
    };
    const rttDirect = await rtt(ports.echo);
    const rttProxied = await rtt(portOf("echo"));
    const addedP50 = rttProxied.p50 - rttDirect.p50;

    const accuracy: { requested: number; observed: number }[] = [];
    for (const [latency, count] of [
      [10, 30],
      [100, 10],
      [1000, 3],
    ] as const) {
      await api("POST", "/proxies/lat/toxics", { name: "lat", type: "latency", attributes: { latency } });
      const times = await ask<number[]>(worker, { op: "rtt", port: portOf("lat"), count, size: RTT_SIZE });
      accuracy.push({ requested: latency, observed: median(times) / 1000 });
      await api("DELETE", "/proxies/lat/toxics/lat").catch(() => undefined);
    }

    const f = (n: number, digits = 0) => n.toFixed(digits).padStart(9);
    console.log(
      "\nEmbedded Toxiproxy-compatible proxy (traffic endpoints in a worker thread, proxy in the main thread)",
    );
    console.log("measure                         direct    proxied    ratio/added   target        verdict");
    console.log(
      `bulk throughput (MB/s)       ${f(median(direct))}  ${f(median(proxied))}    ${f(throughputRatio, 2)}x    >= ${TARGET_THROUGHPUT_RATIO}x        ${verdict(throughputRatio >= TARGET_THROUGHPUT_RATIO)}`,
    );
    console.log(
      `round trip p50 (µs)          ${f(rttDirect.p50, 1)}  ${f(rttProxied.p50, 1)}    ${f(addedP50, 1)}µs   <= ${TARGET_ADDED_P50_US}µs added  ${verdict(addedP50 <= TARGET_ADDED_P50_US)}`,
    );
    console.log(
      `round trip p99 (µs)          ${f(rttDirect.p99, 1)}  ${f(rttProxied.p99, 1)}    ${f(rttProxied.p99 - rttDirect.p99, 1)}µs`,
    );
    for (const { requested, observed } of accuracy) {
      const error = observed - requested;
      console.log(
        `latency toxic ${String(requested).padStart(4)} ms (p50)     requested ${f(requested)} observed ${f(observed, 2)}  ${f(error, 2)}ms   within ${TARGET_LATENCY_ERROR_MS}ms    ${verdict(Math.abs(error) <= TARGET_LATENCY_ERROR_MS)}`,
      );
    }
    console.log(
      `(bulk: median of 3 runs of ${BULK_BYTES >> 20} MiB; round trips: ${RTT_COUNT} x ${RTT_SIZE} bytes)`,
    );
  } finally {
    await server.close();
    await ask(worker, { op: "stop" }).catch(() => undefined);
    await worker.terminate();
  }
}

import { type ChildProcess, fork } from "node:child_process";
import os from "node:os";
import { startToxiproxyServer } from "../src/proxy/server.js";
import type { HttpTrafficRequest, LoadResult } from "./http-traffic.js";
import { startMachineLoad } from "./machine-load.js";
import { median, percentile } from "./stats.js";

/** Target from the issue: an HTTP-aware proxy with no matching toxic keeps most of the byte-level speed. */
const TARGET_RATIO = 0.8;
/**
 * Rounds of the comparison. In each, the byte-level and the HTTP-aware proxy are measured twice, in the
 * order A B B A (which of the two is A alternates from round to round), so that a change in the machine's
 * load during a round hits both alike; the round's ratio compares the two sums. The result is the median
 * of the rounds' ratios: same run, same client, same server, same load for both.
 */
const ROUNDS = 9;
const CONNECTIONS = 4;
const REQUESTS = 2000;
const LATENCY_REQUESTS = 1000;
const WARMUP = 1000;

type Path = "direct" | "bytes" | "http";
const PATHS: readonly Path[] = ["direct", "bytes", "http"];

function child(): { ask<T>(req: HttpTrafficRequest): Promise<T>; stop(): void } {
  const proc: ChildProcess = fork(new URL("./http-traffic.js", import.meta.url), { stdio: "inherit" });
  return {
    ask: <T>(req: HttpTrafficRequest) =>
      new Promise<T>((resolve, reject) => {
        proc.once("message", (msg: { value?: T; error?: string }) =>
          msg.error !== undefined ? reject(new Error(msg.error)) : resolve(msg.value as T),
        );
        proc.send(req);
      }),
    stop: () => {
      if (proc.connected) proc.send({ op: "stop" } satisfies HttpTrafficRequest);
    },
  };
}

/**
 * Keep-alive HTTP requests through three paths in the same run: direct, the byte-level proxy (no toxic),
 * and the HTTP-aware proxy (an HTTP toxic that matches no request engages the HTTP stage). The server and
 * the client run in processes of their own; the proxy runs in this one. Prints requests per second
 * (4 connections, one request at a time each) and the added p50 of a single connection's requests.
 * @throws when the proxy cannot start or a traffic process fails.
 */
export async function benchHttpProxy(): Promise<void> {
  const upstream = child();
  const client = child();
  const { port } = await upstream.ask<{ port: number }>({ op: "serve" });
  const server = await startToxiproxyServer({
    port: 0,
    proxies: [
      { name: "bytes", listen: "127.0.0.1:0", upstream: `127.0.0.1:${port}` },
      { name: "http", listen: "127.0.0.1:0", upstream: `127.0.0.1:${port}` },
    ],
  });
  try {
    const proxies = (await (await fetch(`${server.url}/proxies`)).json()) as Record<
      string,
      { listen: string }
    >;
    const portOf = (name: string) => Number(proxies[name]!.listen.split(":").pop());
    const ports: Record<Path, number> = { direct: port, bytes: portOf("bytes"), http: portOf("http") };
    const res = await fetch(`${server.url}/proxies/http/toxics`, {
      method: "POST",
      body: JSON.stringify({
        type: "http_status",
        stream: "upstream",
        attributes: { status: 503, match: { method: "POST", path: "/never" } },
      }),
    });
    if (!res.ok) throw new Error(`adding the HTTP toxic: ${res.status} ${await res.text()}`);

    for (const path of PATHS)
      await client.ask({ op: "load", port: ports[path], connections: 1, requests: WARMUP });
    const rps: Record<Path, number[]> = { direct: [], bytes: [], http: [] };
    const times: Record<Path, number[]> = { direct: [], bytes: [], http: [] };
    const ratios: number[] = [];
    const many = async (path: Path): Promise<number> => {
      const { requestsPerSecond } = await client.ask<LoadResult>({
        op: "load",
        port: ports[path],
        connections: CONNECTIONS,
        requests: REQUESTS,
      });
      rps[path].push(requestsPerSecond);
      return requestsPerSecond;
    };
    const one = async (path: Path): Promise<void> => {
      const { times: each } = await client.ask<LoadResult>({
        op: "load",
        port: ports[path],
        connections: 1,
        requests: LATENCY_REQUESTS,
      });
      times[path].push(...each);
    };
    const loadAverage = os.loadavg()[0]!;
    const load = startMachineLoad();
    const start = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      const [a, b]: [Path, Path] = round % 2 === 0 ? ["bytes", "http"] : ["http", "bytes"];
      await many("direct");
      const sums: Record<Path, number> = { direct: 0, bytes: 0, http: 0 };
      for (const path of [a, b, b, a]) sums[path] += await many(path);
      ratios.push(sums.http / sums.bytes);
      for (const path of [a, b, "direct" as const]) await one(path);
    }
    const wallMs = performance.now() - start;
    const p50 = (path: Path) => percentile(times[path], 50);
    const ratio = median(ratios);
    const others = Math.max(0, load.busyMs() / wallMs);

    console.log(
      "\nHTTP/1.1 keep-alive through the embedded proxy (proxy here; server and client in processes of their own)",
    );
    const rows = [
      ["measure", "direct", "byte-level", "HTTP-aware", "measured", "target", "verdict"],
      [
        `requests/s (median of ${ROUNDS} rounds, 4 connections)`,
        median(rps.direct).toFixed(0),
        median(rps.bytes).toFixed(0),
        median(rps.http).toFixed(0),
        `${ratio.toFixed(2)}x of byte-level`,
        `>= ${TARGET_RATIO}x`,
        ratio >= TARGET_RATIO ? "PASS" : "MISS",
      ],
      [
        "  round ratios: quartiles (min..max)",
        "",
        "",
        "",
        `${percentile(ratios, 25).toFixed(2)}..${percentile(ratios, 75).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)})`,
        "",
        "",
      ],
      [
        "p50 per request, µs (1 connection)",
        p50("direct").toFixed(0),
        p50("bytes").toFixed(0),
        p50("http").toFixed(0),
        `+${(p50("http") - p50("direct")).toFixed(0)} µs (byte-level +${(p50("bytes") - p50("direct")).toFixed(0)})`,
        "",
        "",
      ],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const row of rows)
      console.log(
        row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "),
      );
    console.log(
      `the machine was busy ${others.toFixed(2)} CPUs on average during the rounds (all processes; 1-minute load average ${loadAverage.toFixed(1)} at the start)`,
    );
  } finally {
    client.stop();
    upstream.stop();
    await server.close();
  }
}

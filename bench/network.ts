import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { pino } from "pino";
import type { AgentContext, PreparedFault } from "../src/agents/agent.js";
import { networkAgent } from "../src/agents/network/index.js";
import { RunResources } from "../src/experiments/resources.js";
import { Traffic } from "./proxy.js";
import type { BulkResult } from "./proxy-traffic.js";
import { median, percentile } from "./stats.js";

const exec = promisify(execFile);

/** Targets from the issue. */
const TARGET_LATENCY_ERROR_MS = 2;

const BULK_BYTES = 128 << 20;
const BULK_WARMUP_BYTES = 32 << 20;
const BULK_ROUNDS = 3;
const RTT_ROUNDS = 3;
const RTT_COUNT = 500;
const RTT_WARMUP = 300;
const RTT_SIZE = 64;
/** Fixed ports of the explicit proxy: the namespace is the benchmark's own, so nothing else listens there. */
const PROXY_API = 18474;
const PROXY_PORTS = { echo: 18475, sink: 18476 };

type Path = "direct" | "interception" | "proxy";
const PATHS: readonly Path[] = ["direct", "interception", "proxy"];

const f = (n: number, digits = 0): string => n.toFixed(digits);

/** Runs a short Node script inside the namespace (the explicit proxy's API listens on its loopback). */
async function inNamespace(netns: string, script: string): Promise<string> {
  return (await exec("ip", ["netns", "exec", netns, process.execPath, "-e", script], { timeout: 30_000 }))
    .stdout;
}

async function proxyApi(netns: string, method: string, path: string, body?: unknown): Promise<void> {
  const init = JSON.stringify({ method, body: body === undefined ? undefined : JSON.stringify(body) });
  await inNamespace(
    netns,
    `fetch("http://127.0.0.1:${PROXY_API}${path}", ${init}).then(async (r) => { if (!r.ok) { console.error(r.status, await r.text()); process.exit(1); } })`,
  );
}

async function waitForProxy(netns: string, proxy: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (proxy.exitCode !== null) throw new Error(`chaos proxy exited (${proxy.exitCode})`);
    const up = await proxyApi(netns, "GET", "/version").then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("chaos proxy did not answer in the benchmark's namespace");
}

function context(): AgentContext & { dispose(): Promise<void> } {
  const log = pino({ enabled: false });
  const resources = new RunResources(log);
  return {
    runId: `bench${randomBytes(4).toString("hex")}`,
    experiment: "npm run bench",
    log,
    signal: new AbortController().signal,
    configuration: {},
    secrets: {},
    resources,
    dispose: () => resources.close(),
  };
}

/** Applies network.latency (by interception) on the traffic process's namespace, to the given ports. */
async function intercept(
  ctx: AgentContext,
  pid: number,
  ports: number[],
  latencyMs: number,
): Promise<PreparedFault> {
  const prepared = await networkAgent.actions.latency!.prepare(
    {
      target: { process: { pid } },
      args: { to: ports.map((p) => `127.0.0.1:${p}`), latency: `${latencyMs}ms` },
    },
    ctx,
  );
  await prepared.apply();
  return prepared;
}

/**
 * The network agent's interception against the same traffic direct and through the explicit embedded proxy
 * (`chaos proxy`), in the same run and the same network namespace (the benchmark's own, made with `ip netns`):
 * bulk throughput and the added round-trip p50 (interception with a 0 ms latency toxic, the proxy with the
 * same toxic), then the latency toxic's accuracy by interception at 10, 100 and 1000 ms. Needs root; prints
 * why and returns elsewhere.
 * @throws when the namespace, the proxy or a traffic process fails.
 */
export async function benchNetwork(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log("network benchmark skipped: interception needs root (namespaces, iptables, nsenter)");
    return;
  }
  await networkAgent.prepareRun!(context());
  const netns = `ck-bench-${randomBytes(3).toString("hex")}`;
  await exec("ip", ["netns", "add", netns]);
  await exec("ip", ["-n", netns, "link", "set", "lo", "up"]);
  const dir = await mkdtemp(join(tmpdir(), "chaos-bench-network-"));
  const ctx = context();
  // Bulk client and sink share one traffic process; the echo server runs in a second, as a real server would.
  const traffic = Traffic.start(netns);
  const echoSide = Traffic.start(netns);
  let proxy: ChildProcess | undefined;
  const faults: PreparedFault[] = [];
  try {
    // Each side listens twice: once for the direct path and the proxy's upstream, once for interception
    // (rules select by destination, so the intercepted ports are the only ones redirected).
    const { echo, held } = await echoSide.ask<{ echo: number; held: number }>({ op: "start" });
    const direct = { sink: (await traffic.ask<{ sink: number }>({ op: "start" })).sink, echo, held };
    const other = {
      sink: (await traffic.ask<{ sink: number }>({ op: "start" })).sink,
      echo: (await echoSide.ask<{ echo: number }>({ op: "start" })).echo,
      latency: (await echoSide.ask<{ echo: number }>({ op: "start" })).echo,
    };
    const config = join(dir, "proxies.json");
    await writeFile(
      config,
      JSON.stringify([
        { name: "echo", listen: `127.0.0.1:${PROXY_PORTS.echo}`, upstream: `127.0.0.1:${direct.echo}` },
        { name: "sink", listen: `127.0.0.1:${PROXY_PORTS.sink}`, upstream: `127.0.0.1:${direct.sink}` },
      ]),
    );
    const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
    proxy = spawn(
      "ip",
      [
        ...["netns", "exec", netns, process.execPath, cli, "proxy", "--port", String(PROXY_API)],
        ...["--config", config, "--strict-config", "--log-level", "warn"],
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    await waitForProxy(netns, proxy);
    for (const name of ["echo", "sink"]) {
      await proxyApi(netns, "POST", `/proxies/${name}/toxics`, {
        name: "zero",
        type: "latency",
        attributes: { latency: 0 },
      });
    }
    faults.push(await intercept(ctx, traffic.pid, [other.sink, other.echo], 0));
    const sinkPort: Record<Path, number> = {
      direct: direct.sink,
      interception: other.sink,
      proxy: PROXY_PORTS.sink,
    };
    const echoPort: Record<Path, number> = {
      direct: direct.echo,
      interception: other.echo,
      proxy: PROXY_PORTS.echo,
    };

    // Bulk throughput: the three paths in turn, rotating which goes first.
    const bulk: Record<Path, number[]> = { direct: [], interception: [], proxy: [] };
    for (const path of PATHS)
      await traffic.ask<BulkResult>({ op: "bulk", port: sinkPort[path], bytes: BULK_WARMUP_BYTES });
    for (let i = 0; i < BULK_ROUNDS; i++) {
      for (let j = 0; j < PATHS.length; j++) {
        const path = PATHS[(i + j) % PATHS.length]!;
        bulk[path].push(
          (await traffic.ask<BulkResult>({ op: "bulk", port: sinkPort[path], bytes: BULK_BYTES }))
            .mbPerSecond,
        );
      }
    }

    // Round trips: the three paths in alternating rounds, each after its own warm-up.
    const rtt: Record<Path, number[]> = { direct: [], interception: [], proxy: [] };
    for (const path of PATHS) {
      await traffic.ask({ op: "rtt", port: echoPort[path], count: RTT_WARMUP, size: RTT_SIZE });
    }
    for (let i = 0; i < RTT_ROUNDS; i++) {
      for (const path of PATHS) {
        rtt[path].push(
          ...(await traffic.ask<number[]>({
            op: "rtt",
            port: echoPort[path],
            count: RTT_COUNT,
            size: RTT_SIZE,
          })),
        );
      }
    }

    // The latency toxic's accuracy: by interception (one fault per latency, on a port of its own), and
    // through the explicit proxy at the same moment, so that a busy machine shows in both.
    // Both against what this machine itself adds to a reply after the same quiet: the echo process holding
    // each message for exactly that long before answering directly.
    const accuracy: { requested: number; interception: number; proxy: number; baseline: number }[] = [];
    for (const [latency, count] of [
      [10, 30],
      [100, 10],
      [1000, 7],
    ] as const) {
      await echoSide.ask({ op: "hold", ms: latency });
      const held = await traffic.ask<number[]>({ op: "rtt", port: direct.held, count, size: RTT_SIZE });
      const fault = await intercept(ctx, traffic.pid, [other.latency], latency);
      const times = await traffic.ask<number[]>({ op: "rtt", port: other.latency, count, size: RTT_SIZE });
      await networkAgent.revert(fault.revert!, ctx);
      await proxyApi(netns, "POST", "/proxies/echo/toxics/zero", { attributes: { latency } });
      const viaProxy = await traffic.ask<number[]>({
        op: "rtt",
        port: PROXY_PORTS.echo,
        count,
        size: RTT_SIZE,
      });
      await proxyApi(netns, "POST", "/proxies/echo/toxics/zero", { attributes: { latency: 0 } });
      accuracy.push({
        requested: latency,
        interception: median(times) / 1000,
        proxy: median(viaProxy) / 1000,
        baseline: median(held) / 1000,
      });
    }

    const p50 = (path: Path) => percentile(rtt[path], 50);
    console.log(
      "\nNetwork agent: interception (nat REDIRECT into an interceptor in the target's namespace) against direct and the explicit embedded proxy (chaos proxy), same namespace, same run",
    );
    const rows: string[][] = [
      ["measure", "direct", "interception", "explicit proxy", "interception vs direct", "vs proxy"],
      [
        "bulk throughput MB/s (median)",
        ...PATHS.map((p) => f(median(bulk[p]))),
        `${f(median(bulk.interception) / median(bulk.direct), 2)}x`,
        `${f(median(bulk.interception) / median(bulk.proxy), 2)}x`,
      ],
      [
        "round trip p50 µs",
        ...PATHS.map((p) => f(p50(p), 1)),
        `+${f(p50("interception") - p50("direct"), 1)}µs`,
        `${p50("interception") >= p50("proxy") ? "+" : ""}${f(p50("interception") - p50("proxy"), 1)}µs`,
      ],
      [
        "round trip p99 µs",
        ...PATHS.map((p) => f(percentile(rtt[p], 99), 1)),
        `+${f(percentile(rtt.interception, 99) - percentile(rtt.direct, 99), 1)}µs`,
        "",
      ],
      ...accuracy.map(({ requested, interception, proxy, baseline }) => {
        const error = interception - baseline;
        const verdict = Math.abs(error) <= TARGET_LATENCY_ERROR_MS ? "pass" : "FAIL";
        return [
          `latency toxic ${requested} ms, observed p50 ms`,
          f(baseline, 2),
          f(interception, 2),
          f(proxy, 2),
          `${error >= 0 ? "+" : ""}${f(error, 2)}ms (target within ${TARGET_LATENCY_ERROR_MS}ms: ${verdict})`,
          `${interception >= proxy ? "+" : ""}${f(interception - proxy, 2)}ms`,
        ];
      }),
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
    console.log(
      `(bulk: ${BULK_ROUNDS} rounds of ${BULK_BYTES >> 20} MiB per path; round trips: ${RTT_ROUNDS} x ${RTT_COUNT} x ${RTT_SIZE} bytes each way; ` +
        "interception and the proxy both with a 0 ms latency toxic)",
    );
    console.log(
      "(latency toxic: direct = the echo server holding each message exactly that long itself, what the machine " +
        "adds to a reply after that much quiet)",
    );
  } finally {
    for (const fault of faults) await networkAgent.revert(fault.revert!, ctx).catch(() => undefined);
    await ctx.dispose();
    proxy?.kill("SIGTERM");
    await Promise.all([traffic.stop(), echoSide.stop()]);
    await exec("ip", ["netns", "del", netns]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

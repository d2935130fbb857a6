import { type ChildProcess, fork, spawn } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { startToxiproxyServer } from "../src/proxy/server.js";
import { cpuMsSince, startMachineLoad } from "./machine-load.js";
import type { BulkResult, TrafficRequest } from "./proxy-traffic.js";
import { median, percentile } from "./stats.js";

/** Targets from the issue: what "good enough" means for the embedded proxy. */
const TARGET_THROUGHPUT_RATIO = 0.8;
const TARGET_ADDED_P50_US = 50;
const TARGET_LATENCY_ERROR_MS = 2;

const BULK_BYTES = 512 << 20;
const BULK_WARMUP_BYTES = 128 << 20;
/** Direct and proxied runs in pairs, alternating which goes first, so machine noise hits both alike. */
const BULK_PAIRS = 7;
const RTT_ROUNDS = 5;
const RTT_COUNT = 1000;
const RTT_WARMUP = 500;
const RTT_SIZE = 64;
const GIB = 1 << 30;

/** The traffic process: one request at a time, each answered by one message. */
export class Traffic {
  private constructor(private readonly child: ChildProcess) {}

  /** In this network namespace, or in the named one (`ip netns exec`, which keeps the IPC channel open). */
  static start(netns?: string): Traffic {
    const module = new URL("./proxy-traffic.js", import.meta.url);
    if (!netns) return new Traffic(fork(module, { stdio: "inherit" }));
    const argv = ["netns", "exec", netns, process.execPath, fileURLToPath(module)];
    return new Traffic(spawn("ip", argv, { stdio: ["inherit", "inherit", "inherit", "ipc"] }));
  }

  /** The traffic process's pid (with `ip netns exec`, the process it became). */
  get pid(): number {
    return this.child.pid!;
  }

  ask<T>(req: TrafficRequest): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`traffic process exited (${code})`));
      this.child.once("exit", onExit);
      this.child.once("message", (msg: { value?: T; error?: string }) => {
        this.child.off("exit", onExit);
        if (msg.error !== undefined) reject(new Error(msg.error));
        else resolve(msg.value as T);
      });
      this.child.send(req);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    if (this.child.connected) this.child.send({ op: "stop" } satisfies TrafficRequest);
    const timer = setTimeout(() => this.child.kill(), 2000);
    await exited;
    clearTimeout(timer);
  }
}

interface Row {
  measure: string;
  direct: string;
  proxied: string;
  measured: string;
  target: string;
  pass?: boolean;
}

function printTable(rows: Row[]): void {
  const columns: (keyof Row)[] = ["measure", "direct", "proxied", "measured", "target"];
  const header: Row = {
    measure: "measure",
    direct: "direct",
    proxied: "proxied",
    measured: "measured",
    target: "target",
  };
  const all = [header, ...rows];
  const width = (c: keyof Row) => Math.max(...all.map((r) => String(r[c] ?? "").length));
  for (const row of all) {
    const cells = columns.map((c, i) =>
      i === 0 ? String(row[c]).padEnd(width(c)) : String(row[c]).padStart(width(c)),
    );
    const verdict = row === header ? "verdict" : row.pass === undefined ? "" : row.pass ? "PASS" : "MISS";
    console.log(`${cells.join("  ")}  ${verdict}`);
  }
}

const f = (n: number, digits = 0): string => n.toFixed(digits);

/**
 * Measures the embedded proxy against direct loopback in the same run: bulk throughput, small round trips,
 * and the accuracy of the latency toxic. Prints each measure with its target and PASS or MISS, and how
 * busy other processes kept the machine (a shared machine makes throughput ratios noisy).
 * @throws when the proxy cannot start or the traffic process fails.
 */
export async function benchProxy(): Promise<void> {
  // Bulk: client and sink share the traffic process. Round trips: the echo server runs in a second one, as a
  // real server would, so that the direct path already crosses processes and the proxy adds only its hop.
  const traffic = Traffic.start();
  const echoSide = Traffic.start();
  const { echo, held } = await echoSide.ask<{ echo: number; held: number }>({ op: "start" });
  const ports = { sink: (await traffic.ask<{ sink: number }>({ op: "start" })).sink, echo, held };
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
    return (res.status === 204 ? {} : await res.json()) as Record<string, { listen: string }>;
  };
  try {
    const all = await api("GET", "/proxies");
    const portOf = (name: string) => Number(all[name]!.listen.split(":").pop());
    const bulkPort = { direct: ports.sink, proxied: portOf("bulk") };
    const echoPort = { direct: ports.echo, proxied: portOf("echo") };

    // Bulk throughput, with the CPU each side spent and what the rest of the machine did meanwhile.
    const bulk = { direct: [] as number[], proxied: [] as number[], ratios: [] as number[] };
    let proxyCpuMs = 0;
    let trafficCpuMs = { direct: 0, proxied: 0 };
    let machine = { wallMs: 0, busyMs: 0 };
    const runBulk = async (path: "direct" | "proxied", bytes: number): Promise<BulkResult> => {
      const ownCpu = process.cpuUsage();
      const load = startMachineLoad();
      const start = performance.now();
      const result = await traffic.ask<BulkResult>({ op: "bulk", port: bulkPort[path], bytes });
      machine.wallMs += performance.now() - start;
      machine.busyMs += load.busyMs();
      // This process only runs the proxy (its API is idle meanwhile).
      proxyCpuMs += cpuMsSince(ownCpu);
      trafficCpuMs[path] += result.cpuMs;
      return result;
    };
    await runBulk("direct", BULK_WARMUP_BYTES);
    await runBulk("proxied", BULK_WARMUP_BYTES);
    proxyCpuMs = 0;
    trafficCpuMs = { direct: 0, proxied: 0 };
    machine = { wallMs: 0, busyMs: 0 };
    for (let i = 0; i < BULK_PAIRS; i++) {
      const order = i % 2 === 0 ? (["direct", "proxied"] as const) : (["proxied", "direct"] as const);
      const pair = { direct: 0, proxied: 0 };
      for (const path of order) pair[path] = (await runBulk(path, BULK_BYTES)).mbPerSecond;
      bulk.direct.push(pair.direct);
      bulk.proxied.push(pair.proxied);
      bulk.ratios.push(pair.proxied / pair.direct);
    }
    const gib = (BULK_PAIRS * BULK_BYTES) / GIB;
    const ratio = median(bulk.ratios);

    // Round trips: direct and proxied in alternating rounds, each after its own warm-up.
    const samples = { direct: [] as number[], proxied: [] as number[] };
    for (const path of ["direct", "proxied"] as const) {
      await traffic.ask({ op: "rtt", port: echoPort[path], count: RTT_WARMUP, size: RTT_SIZE });
    }
    for (let i = 0; i < RTT_ROUNDS; i++) {
      for (const path of ["direct", "proxied"] as const) {
        const times = await traffic.ask<number[]>({
          op: "rtt",
          port: echoPort[path],
          count: RTT_COUNT,
          size: RTT_SIZE,
        });
        samples[path].push(...times);
      }
    }
    const p = (path: "direct" | "proxied", q: number) => percentile(samples[path], q);
    const addedP50 = p("proxied", 50) - p("direct", 50);

    // The latency toxic's accuracy, against what this machine itself adds to a reply after the same quiet:
    // the same echo process holding each message for exactly that long before answering directly.
    const accuracy: { requested: number; observed: number; baseline: number }[] = [];
    for (const [latency, count] of [
      [10, 30],
      [100, 10],
      [1000, 7],
    ] as const) {
      await echoSide.ask({ op: "hold", ms: latency });
      const held = await traffic.ask<number[]>({ op: "rtt", port: ports.held, count, size: RTT_SIZE });
      await api("POST", "/proxies/lat/toxics", { name: "lat", type: "latency", attributes: { latency } });
      const times = await traffic.ask<number[]>({ op: "rtt", port: portOf("lat"), count, size: RTT_SIZE });
      accuracy.push({ requested: latency, observed: median(times) / 1000, baseline: median(held) / 1000 });
      await api("DELETE", "/proxies/lat/toxics/lat");
    }

    console.log(
      "\nEmbedded Toxiproxy-compatible proxy in this process; bulk client and sink in a second, echo server in a third",
    );
    printTable([
      {
        measure: "bulk throughput MB/s (median)",
        direct: f(median(bulk.direct)),
        proxied: f(median(bulk.proxied)),
        measured: `${f(ratio, 2)}x`,
        target: `>= ${TARGET_THROUGHPUT_RATIO}x`,
        pass: ratio >= TARGET_THROUGHPUT_RATIO,
      },
      {
        measure: "  min..max of the pair ratios",
        direct: "",
        proxied: "",
        measured: `${f(Math.min(...bulk.ratios), 2)}..${f(Math.max(...bulk.ratios), 2)}`,
        target: "",
      },
      {
        measure: "CPU ms per GiB: traffic process",
        direct: f(trafficCpuMs.direct / gib),
        proxied: f(trafficCpuMs.proxied / gib),
        measured: "",
        target: "",
      },
      {
        measure: "CPU ms per GiB: proxy",
        direct: "",
        proxied: f(proxyCpuMs / gib),
        measured: "",
        target: "",
      },
      {
        measure: "round trip p50 µs",
        direct: f(p("direct", 50), 1),
        proxied: f(p("proxied", 50), 1),
        measured: `+${f(addedP50, 1)}µs`,
        target: `<= +${TARGET_ADDED_P50_US}µs`,
        pass: addedP50 <= TARGET_ADDED_P50_US,
      },
      {
        measure: "round trip p99 µs",
        direct: f(p("direct", 99), 1),
        proxied: f(p("proxied", 99), 1),
        measured: `+${f(p("proxied", 99) - p("direct", 99), 1)}µs`,
        target: "",
      },
      ...accuracy.map(({ requested, observed, baseline }) => ({
        measure: `latency toxic ${requested} ms, observed p50 ms`,
        direct: f(baseline, 2),
        proxied: f(observed, 2),
        measured: `${observed >= baseline ? "+" : ""}${f(observed - baseline, 2)}ms`,
        target: `within ${TARGET_LATENCY_ERROR_MS}ms`,
        pass: Math.abs(observed - baseline) <= TARGET_LATENCY_ERROR_MS,
      })),
    ]);
    const othersCpus =
      (machine.busyMs - proxyCpuMs - trafficCpuMs.direct - trafficCpuMs.proxied) / machine.wallMs;
    console.log(
      `(bulk: ${BULK_PAIRS} direct/proxied pairs of ${BULK_BYTES >> 20} MiB, ratio = median of the pair ratios; ` +
        `round trips: ${RTT_ROUNDS} x ${RTT_COUNT} x ${RTT_SIZE} bytes each way)`,
    );
    console.log(
      "(latency toxic: direct = the echo server holding each message exactly that long itself, what the machine " +
        "adds to a reply after that much quiet; measured = proxied - direct)",
    );
    console.log(
      `(other processes kept ${f(Math.max(0, othersCpus), 2)} of ${os.cpus().length} CPUs busy during the bulk runs; ` +
        "they slow the proxied runs most, as those need more than one core)",
    );
  } finally {
    await server.close();
    await Promise.all([traffic.stop(), echoSide.stop()]);
  }
}

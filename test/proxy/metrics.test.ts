import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { describeWithPrometheus, startTestPrometheus, waitForQuery } from "../support/prometheus.js";
import { connect, echoServer, request, type TcpServer } from "./helpers.js";

let upstream: TcpServer;
beforeAll(async () => {
  upstream = await echoServer();
});
afterAll(async () => {
  await upstream.close();
});

/** Creates proxy `name` on `server`, sends `text` through it and waits for its echo. */
async function through(server: ToxiproxyServer, name: string, text: string): Promise<string> {
  const res = await request(
    server.url,
    "POST",
    "/proxies",
    JSON.stringify({ name, listen: "127.0.0.1:0", upstream: upstream.address }),
  );
  const { listen } = JSON.parse(res.body) as { listen: string };
  const socket = await connect(Number(listen.split(":")[1]));
  let echoed = "";
  const back = new Promise<void>((resolve) =>
    socket.on("data", (d) => {
      echoed += d.toString();
      if (echoed.length >= text.length) resolve();
    }),
  );
  socket.write(text);
  await back;
  socket.destroy();
  return listen;
}

describe("/metrics of the embedded proxy, as Toxiproxy's -proxy-metrics and -runtime-metrics", () => {
  it("counts bytes per proxy and direction with Toxiproxy's names and labels, with no runtime metrics", async () => {
    const server = await startToxiproxyServer({ port: 0, metrics: true });
    try {
      const listen = await through(server, "m", "hello");
      const scrape = await request(server.url, "GET", "/metrics");
      expect(scrape.status).toBe(200);
      expect(scrape.headers["content-type"]).toContain("text/plain; version=0.0.4");
      const labels = `listener="${listen}",proxy="m",upstream="${upstream.address}"`;
      expect(scrape.body).toContain(`toxiproxy_proxy_received_bytes_total{direction="upstream",${labels}} 5`);
      expect(scrape.body).toContain(`toxiproxy_proxy_sent_bytes_total{direction="upstream",${labels}} 5`);
      expect(scrape.body).toContain(
        `toxiproxy_proxy_received_bytes_total{direction="downstream",${labels}} 5`,
      );
      expect(scrape.body).toContain(`toxiproxy_proxy_sent_bytes_total{direction="downstream",${labels}} 5`);
      expect(scrape.body).toContain("# TYPE toxiproxy_proxy_sent_bytes_total counter");
      expect(scrape.body).not.toContain("process_");
    } finally {
      await server.close();
    }
  });

  it("serves the process's own metrics alone with runtime metrics only", async () => {
    const server = await startToxiproxyServer({ port: 0, runtimeMetrics: true });
    try {
      await through(server, "r", "abc");
      const scrape = await request(server.url, "POST", "/metrics");
      expect(scrape.status).toBe(200);
      for (const name of [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_open_fds",
        "nodejs_eventloop_lag_seconds",
      ]) {
        expect(scrape.body).toContain(`\n${name} `);
      }
      expect(scrape.body).not.toContain("toxiproxy_proxy_");
    } finally {
      await server.close();
    }
  });
});

describeWithPrometheus("/metrics scraped by a real Prometheus", () => {
  let server: ToxiproxyServer;
  let prometheus: RunningPrometheus;
  beforeAll(async () => {
    server = await startToxiproxyServer({ port: 0, metrics: true, runtimeMetrics: true });
    prometheus = await startTestPrometheus([`127.0.0.1:${server.port}`]);
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
  });

  it("PromQL sees the bytes that went through each proxy, per direction", async () => {
    await through(server, "db", "x".repeat(1000));
    await through(server, "cache", "y".repeat(30));
    const sum = (q: string) =>
      waitForQuery(prometheus.url, q, (r) => Array.isArray(r) && r.length === 1, 20_000).then((r) =>
        Number((r as { value: [number, string] }[])[0]!.value[1]),
      );
    expect(
      await sum('sum(toxiproxy_proxy_received_bytes_total{proxy="db",direction="upstream"}) == 1000'),
    ).toBe(1000);
    expect(
      await sum('sum(toxiproxy_proxy_sent_bytes_total{proxy="db",direction="downstream"}) == 1000'),
    ).toBe(1000);
    expect(await sum('sum by (proxy) (toxiproxy_proxy_sent_bytes_total{proxy="cache"}) == 60')).toBe(60);
    expect(await sum('process_resident_memory_bytes{job="targets"} > 0')).toBeGreaterThan(0);
  });
});

import { Counter, collectDefaultMetrics, Registry } from "prom-client";
import type { ByteCounters, Direction } from "./link.js";

type Label = "direction" | "listener" | "proxy" | "upstream";
type Labels = Record<Label, string>;

export interface MetricsOptions {
  /** Toxiproxy's `-proxy-metrics`: bytes per proxy and direction. */
  proxy?: boolean;
  /** Toxiproxy's `-runtime-metrics`: the process's own (`process_*`, as Go's process collector names them, and `nodejs_*`). */
  runtime?: boolean;
}

/**
 * The Prometheus metrics of the embedded proxy and of the network agent's interceptor, named and labelled as
 * Toxiproxy's collectors name them:
 *
 *   toxiproxy_proxy_received_bytes_total{direction,listener,proxy,upstream}   bytes read from a link's source
 *   toxiproxy_proxy_sent_bytes_total{direction,listener,proxy,upstream}       bytes written to its sink
 *
 * The links count in plain numbers (two additions per chunk); the counters read them only when scraped.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly series = new Map<string, { labels: Labels; counters: ByteCounters }>();

  constructor(opts: MetricsOptions = { proxy: true }) {
    if (opts.proxy) {
      const series = this.series;
      const family = (name: string, help: string, pick: (c: ByteCounters) => number): void => {
        new Counter<Label>({
          name,
          help,
          labelNames: ["direction", "listener", "proxy", "upstream"],
          registers: [this.registry],
          collect() {
            this.reset();
            for (const { labels, counters } of series.values()) this.inc(labels, pick(counters));
          },
        });
      };
      family(
        "toxiproxy_proxy_received_bytes_total",
        "Bytes read from the source of a proxy link.",
        (c) => c.received,
      );
      family("toxiproxy_proxy_sent_bytes_total", "Bytes written to the sink of a proxy link.", (c) => c.sent);
    }
    if (opts.runtime) collectDefaultMetrics({ register: this.registry });
  }

  /** Whether anything is exposed: Toxiproxy serves /metrics only then. */
  get enabled(): boolean {
    return this.registry.getMetricsAsArray().length > 0;
  }

  /** The live counters of one series, created at zero. */
  counters(direction: Direction, proxy: string, listener: string, upstream: string): ByteCounters {
    const key = JSON.stringify([direction, proxy, listener, upstream]);
    let found = this.series.get(key);
    if (!found) {
      found = { labels: { direction, listener, proxy, upstream }, counters: { received: 0, sent: 0 } };
      this.series.set(key, found);
    }
    return found.counters;
  }

  /** Every series' counts, e.g. for a log line when the interceptor stops. */
  totals(): (Labels & ByteCounters)[] {
    return [...this.series.values()].map(({ labels, counters }) => ({ ...labels, ...counters }));
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

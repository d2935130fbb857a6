import type { ByteCounters, Direction } from "./link.js";

interface Series {
  labels: { direction: Direction; listener: string; proxy: string; upstream: string };
  counters: ByteCounters;
}

const escapeLabel = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/**
 * Bytes per proxy and direction, named and labelled as Toxiproxy's collectors name them. Counted live by
 * the links (two additions per chunk), rendered as Prometheus text only when scraped.
 */
export class ProxyMetrics {
  private readonly series = new Map<string, Series>();

  counters(direction: Direction, proxy: string, listener: string, upstream: string): ByteCounters {
    const key = JSON.stringify([direction, proxy, listener, upstream]);
    let found = this.series.get(key);
    if (!found) {
      found = { labels: { direction, listener, proxy, upstream }, counters: { received: 0, sent: 0 } };
      this.series.set(key, found);
    }
    return found.counters;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const family = (name: string, help: string, pick: (c: ByteCounters) => number): string => {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} counter`];
      for (const { labels, counters } of this.series.values()) {
        const text = Object.entries(labels)
          .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
          .join(",");
        lines.push(`${name}{${text}} ${pick(counters)}`);
      }
      return `${lines.join("\n")}\n`;
    };
    return (
      family(
        "toxiproxy_proxy_received_bytes_total",
        "Bytes read from the source of a proxy link.",
        (c) => c.received,
      ) +
      family("toxiproxy_proxy_sent_bytes_total", "Bytes written to the sink of a proxy link.", (c) => c.sent)
    );
  }
}

import { stringify } from "yaml";
import type { Stack } from "./stack.js";

/**
 * A Prometheus configuration scraping every service and the embedded Toxiproxy each second, one job per
 * service (so `job` names the service in PromQL). Never throws.
 */
export function prometheusConfig(stack: Pick<Stack, "urls" | "toxiproxyUrl">): string {
  const jobs: Array<[string, string]> = [...Object.entries(stack.urls), ["toxiproxy", stack.toxiproxyUrl]];
  return stringify({
    global: { scrape_interval: "1s", evaluation_interval: "1s", scrape_timeout: "900ms" },
    scrape_configs: jobs.map(([job, url]) => ({
      job_name: job,
      metrics_path: "/metrics",
      static_configs: [{ targets: [new URL(url).host], labels: { app: "chaoskit-target-app" } }],
    })),
  });
}

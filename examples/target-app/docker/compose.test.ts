import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { metricsTargetsAt } from "../../demo/ports.js";
import { proxiesAt, serviceSpecs } from "./services.js";

/**
 * compose.yaml is for a user with a normal Docker; the tests start the same app from services.ts. These
 * checks keep the two definitions in step, so that what the tests prove is what a user runs.
 */

const here = (...parts: string[]) => join(import.meta.dirname, ...parts);
const compose = parse(readFileSync(here("..", "compose.yaml"), "utf8"), { merge: true }) as {
  name: string;
  services: Record<
    string,
    { command?: string[]; environment?: Record<string, string>; restart?: string; network_mode?: string }
  >;
};

describe("the compose file of the sample app", () => {
  it("runs every container of the tested stack with the same command, environment and restart policy", () => {
    for (const spec of serviceSpecs(17000, "${FRAGILE:-}", 20)) {
      const service = compose.services[spec.service];
      expect(service, spec.service).toBeDefined();
      expect(service?.command, spec.service).toEqual(spec.command);
      expect(service?.environment ?? {}, spec.service).toEqual(spec.env);
      expect(service?.restart, spec.service).toBe(spec.restart);
    }
  });

  it("keeps every container on the host network, labelled under the project the experiments expect", () => {
    expect(compose.name).toBe("chaoskit");
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.network_mode, name).toBe("host");
    }
  });

  it("gives the proxy the tested proxies and Prometheus the tested scrape targets", () => {
    expect(JSON.parse(readFileSync(here("proxies.json"), "utf8"))).toEqual(proxiesAt(17000));
    const prometheus = parse(readFileSync(here("prometheus.yml"), "utf8")) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    expect(prometheus.scrape_configs[0]?.static_configs[0]?.targets).toEqual(metricsTargetsAt(17000));
  });
});

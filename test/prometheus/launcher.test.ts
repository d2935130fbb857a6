import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  ensurePrometheus,
  findPrometheusBinary,
  type RunningPrometheus,
  startPrometheus,
} from "../../examples/target-app/prometheus-server.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { describeWithPrometheus, requirePrometheus } from "../support/prometheus.js";

describeWithPrometheus("the Prometheus launcher", () => {
  let running: RunningPrometheus | undefined;

  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it("finds the installed binary and does not try to install it again", async () => {
    const binary = requirePrometheus();
    expect(findPrometheusBinary()).toBe(binary);
    await expect(ensurePrometheus({ install: true, log: () => {} })).resolves.toBe(binary);
  });

  it("starts a ready Prometheus on a free loopback port, and stop() ends it and removes its files", async () => {
    running = await startPrometheus({ binary: requirePrometheus(), scrapeTargets: ["127.0.0.1:1"] });
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    expect(running.port).not.toBe(9090);
    const ready = await fetch(`${running.url}/-/ready`);
    expect(ready.status).toBe(200);
    const config = (await (await fetch(`${running.url}/api/v1/status/config`)).json()) as {
      data: { yaml: string };
    };
    expect(config.data.yaml).toContain("127.0.0.1:1");
    expect(config.data.yaml).toContain("scrape_interval: 1s");
    expect(existsSync(running.dataDir)).toBe(true);

    const { url, dataDir } = running;
    await running.stop();
    running = undefined;
    expect(existsSync(dataDir)).toBe(false);
    await expect(fetch(`${url}/-/ready`)).rejects.toThrow();
  });

  it("fails with Prometheus' own complaint when the config is wrong", async () => {
    let err: unknown;
    try {
      running = await startPrometheus({
        binary: requirePrometheus(),
        scrapeTargets: [],
        extraScrapeConfigs: [{ job_name: "broken", scrape_interval: "not-a-duration" }],
        readyTimeoutMs: 10_000,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChaosError);
    expect((err as ChaosError).code).toBe("agent");
    expect((err as ChaosError).message).toMatch(/exited with \d+[\s\S]*not-a-duration/);
  });
});

describe("the Prometheus launcher without a usable binary", () => {
  it("says it could not start the binary, without hanging", async () => {
    const err = await startPrometheus({ binary: "/nonexistent/prometheus", scrapeTargets: [] }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ChaosError);
    expect((err as ChaosError).message).toMatch(/could not start \/nonexistent\/prometheus: .*ENOENT/);
  });
});

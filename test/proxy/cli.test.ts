import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLI, ensureCliBuilt } from "../support/cli.js";
import { request } from "./helpers.js";

let dir: string;
const children: ChildProcess[] = [];

beforeAll(ensureCliBuilt, 180_000);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-proxy-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

function cli(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe("chaos proxy", () => {
  it("with --strict-config, rejects a malformed config file with one clear line and exit code 2", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, '[{"name":"redis","upstream":"127.0.0.1:6379"}]');
    const run = cli(["proxy", "--port", "0", "--config", file, "--strict-config"]);
    expect(await run.exited).toBe(2);
    const lines = run.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`proxy config ${file}: proxy 1 (redis) needs a "listen" address`);
  });

  it("without --strict-config, logs a config problem and starts anyway, as 2.12 does", async () => {
    const file = join(dir, "broken.json");
    await writeFile(file, '[{"name":"redis","upstream":');
    const run = cli(["proxy", "--port", "0", "--config", file]);
    await expect.poll(() => run.stderr(), { timeout: 10_000 }).toContain("toxiproxy API listening");
    const lines = run.stderr().trim().split("\n");
    const problem = JSON.parse(lines.find((l) => l.includes("error reading config file"))!) as {
      level: number;
      config: string;
      err: string;
    };
    expect(problem).toMatchObject({ level: 50, config: file, err: "bad request body: unexpected EOF" });
    const { url } = JSON.parse(lines.find((l) => l.includes("toxiproxy API listening"))!) as { url: string };
    expect((await request(url, "GET", "/proxies")).body).toBe("{}");
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  });

  it.each(["99999", "-1", "abc", "1.5"])(
    "rejects --port %s as a usage error with one clear line and exit code 2",
    async (port) => {
      const run = cli(["proxy", `--port=${port}`]);
      expect(await run.exited).toBe(2);
      const lines = run.stderr().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("--port must be a whole number from 0 to 65535");
    },
  );

  it("serves the API with the configured proxies, logs JSON, and stops cleanly on SIGTERM", async () => {
    const file = join(dir, "good.json");
    await writeFile(file, '[{"name":"redis","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379"}]');
    const run = cli(["proxy", "--port", "0", "--config", file, "--proxy-metrics", "--runtime-metrics"]);
    await expect.poll(() => run.stderr(), { timeout: 10_000 }).toContain("toxiproxy API listening");
    const line = run
      .stderr()
      .split("\n")
      .find((l) => l.includes("toxiproxy API listening"))!;
    const { url } = JSON.parse(line) as { url: string };
    const proxy = await request(url, "GET", "/proxies/redis");
    expect(JSON.parse(proxy.body)).toMatchObject({ name: "redis", enabled: true });
    const metrics = await request(url, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("# TYPE toxiproxy_proxy_received_bytes_total counter");
    expect(metrics.body).toContain("\nprocess_start_time_seconds ");
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    await expect(request(url, "GET", "/version")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

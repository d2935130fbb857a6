import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ChaosError } from "../../src/experiments/errors.js";
import { findBinary } from "./lib/find-binary.js";
import { freePort } from "./lib/free-ports.js";

export { freePort };

/**
 * Finds, installs and runs a real Prometheus for the sample app and the integration tests.
 *
 *   ensurePrometheus() ─▶ binary path (apt-get install when allowed)
 *   startPrometheus()  ─▶ temp config + data dir ─▶ prometheus on 127.0.0.1:<free port> ─▶ GET /-/ready 200
 *   stop()             ─▶ SIGTERM ─▶ (bound) SIGKILL ─▶ temp dirs removed
 *
 * It never relies on port 9090: a Debian package may have started its own server there.
 */

const DEBIAN_BINARY = "/usr/bin/prometheus";

/** The Prometheus binary: $PROMETHEUS_BINARY, then `prometheus` on PATH, then /usr/bin/prometheus. Never throws. */
export function findPrometheusBinary(): string | undefined {
  return findBinary("PROMETHEUS_BINARY", ["prometheus"], DEBIAN_BINARY);
}

function run(
  cmd: string,
  args: string[],
  log: (line: string) => void,
): Promise<{ code: number; out: string }> {
  log(`$ ${cmd} ${args.join(" ")}`);
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 127) : 0;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
  });
}

/** Pids whose executable is the Debian Prometheus binary (Linux /proc; empty elsewhere). */
function debianPrometheusPids(): Set<number> {
  const pids = new Set<number>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`) === DEBIAN_BINARY) pids.add(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

async function installWithApt(log: (line: string) => void): Promise<void> {
  const policy = await run("apt-cache", ["policy", "prometheus"], log);
  if (policy.code !== 0 || /Candidate:\s*\(none\)/.test(policy.out) || !/Candidate:/.test(policy.out)) {
    const update = await run("apt-get", ["update"], log);
    if (update.code !== 0)
      throw new ChaosError("agent", `apt-get update failed: ${update.out.trim().slice(-500)}`);
  }
  const before = debianPrometheusPids();
  const install = await run("apt-get", ["install", "-y", "--no-install-recommends", "prometheus"], log);
  if (install.code !== 0) {
    throw new ChaosError("agent", `apt-get install prometheus failed: ${install.out.trim().slice(-500)}`);
  }
  // The package's postinst may start a server on :9090; we run our own, so stop the one the install started.
  if (existsSync("/usr/bin/systemctl") || existsSync("/bin/systemctl")) {
    await run("systemctl", ["stop", "prometheus"], log);
  }
  if (existsSync("/usr/sbin/service")) await run("service", ["prometheus", "stop"], log);
  for (const pid of debianPrometheusPids()) {
    if (before.has(pid)) continue;
    try {
      process.kill(pid, "SIGTERM");
      log(`stopped the Prometheus (pid ${pid}) that the package started`);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Returns the Prometheus binary, installing the Debian package when it is missing, `install` is true and we
 * run as root.
 * @throws ChaosError("agent") when it is missing and cannot be installed, saying what to install instead.
 */
export async function ensurePrometheus(opts: {
  install: boolean;
  log?: (line: string) => void;
}): Promise<string> {
  const log = opts.log ?? (() => {});
  const found = findPrometheusBinary();
  if (found) return found;
  const root = process.getuid?.() === 0;
  if (opts.install && root && existsSync("/usr/bin/apt-get")) {
    await installWithApt(log);
    const installed = findPrometheusBinary();
    if (installed) return installed;
  }
  throw new ChaosError("agent", "the prometheus binary was not found", {
    hint:
      "install it (Debian/Ubuntu: apt-get install prometheus; or a release from prometheus.io on PATH, or " +
      "PROMETHEUS_BINARY=/path/to/prometheus), or point the toolkit at a running server with PROMETHEUS_URL",
  });
}

export interface StartPrometheusOptions {
  /** `host:port` of each /metrics endpoint to scrape, as one job named `targets`. */
  scrapeTargets: string[];
  /** Port to listen on (127.0.0.1); a free one by default. */
  port?: number;
  /** Default "1s". */
  scrapeInterval?: string;
  /** Where the TSDB lives; a temp dir (removed by stop) by default. */
  dataDir?: string;
  /** More `scrape_configs` entries, as Prometheus reads them. */
  extraScrapeConfigs?: unknown[];
  /** How long to wait for /-/ready (default 30s). */
  readyTimeoutMs?: number;
  /** The binary; found with findPrometheusBinary() by default. */
  binary?: string;
}

export interface RunningPrometheus {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

function configFor(opts: StartPrometheusOptions): string {
  const interval = opts.scrapeInterval ?? "1s";
  return stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [
      ...(opts.scrapeTargets.length > 0
        ? [
            {
              job_name: "targets",
              metrics_path: "/metrics",
              static_configs: [{ targets: opts.scrapeTargets }],
            },
          ]
        : []),
      ...(opts.extraScrapeConfigs ?? []),
    ],
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts Prometheus on 127.0.0.1 with a generated config and waits until it is ready.
 * @throws ChaosError("agent") when the binary is missing, or Prometheus exits or is not ready in time (the
 *   message holds the last lines it wrote to stderr).
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const binary = opts.binary ?? (await ensurePrometheus({ install: false }));
  try {
    return await launch(binary, opts);
  } catch (err) {
    // The free port was taken between our probe and Prometheus' bind: one more try on another port.
    if (opts.port === undefined && err instanceof ChaosError && /address already in use/.test(err.message)) {
      return launch(binary, opts);
    }
    throw err;
  }
}

async function launch(binary: string, opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const workDir = await mkdtemp(join(tmpdir(), "chaos-prometheus-"));
  const dataDir = opts.dataDir ?? join(workDir, "data");
  const configFile = join(workDir, "prometheus.yml");
  await writeFile(configFile, configFor(opts));
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;

  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-lifecycle",
      "--storage.tsdb.retention.time=1h",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const stderr: string[] = [];
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr.push(...chunk.split("\n").filter(Boolean));
    if (stderr.length > 20) stderr.splice(0, stderr.length - 20);
  });
  let spawnError: Error | undefined;
  child.once("error", (err) => {
    spawnError = err;
  });
  // A test runner that dies must not leave Prometheus behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", killOnExit);
    // A child that never spawned (spawnError) has no pid and never emits "exit".
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const done = await Promise.race([exited(child).then(() => true), sleep(5_000).then(() => false)]);
      if (!done) {
        child.kill("SIGKILL");
        await Promise.race([exited(child), sleep(5_000)]);
      }
    }
    await rm(workDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (!(await isReady(url))) {
    const gone = spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
    if (gone || Date.now() > deadline) {
      await stop();
      const why = spawnError
        ? `could not start ${binary}: ${spawnError.message}`
        : gone
          ? `exited with ${child.exitCode ?? child.signalCode}`
          : `was not ready within ${opts.readyTimeoutMs ?? 30_000}ms`;
      const tail = stderr.length ? `\n${stderr.slice(-10).join("\n")}` : "";
      throw new ChaosError("agent", `Prometheus on ${url} ${why}${tail}`);
    }
    await sleep(100);
  }
  return { url, port, dataDir, stop };
}

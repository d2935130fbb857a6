import { type ChildProcess, spawn } from "node:child_process";
import { describe } from "vitest";
import { findBinary } from "../../examples/target-app/lib/find-binary.js";
import { freePort } from "../../examples/target-app/lib/free-ports.js";

/**
 * A real Prometheus Pushgateway (Debian's `prometheus-pushgateway`) on a free 127.0.0.1 port, for the run
 * metrics suites. Without the binary a suite is skipped on a developer's machine, but fails in CI (CI
 * installs it, so a green run never hides a skipped suite).
 */

const DEBIAN_BINARY = "/usr/bin/prometheus-pushgateway";

const binary = findBinary("PUSHGATEWAY_BINARY", ["prometheus-pushgateway", "pushgateway"], DEBIAN_BINARY);

/** `describe` when the Pushgateway is installed or we run in CI (where its absence must fail). */
export const describeWithPushgateway = binary || process.env.CI ? describe : describe.skip;

export interface RunningPushgateway {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, as a scrape target. */
  target: string;
  stop(): Promise<void>;
}

/**
 * Starts a Pushgateway that keeps nothing on disk, and waits until it answers /-/ready.
 * @throws Error when the binary is missing (in CI this fails the suite on purpose) or it does not start.
 */
export async function startPushgateway(): Promise<RunningPushgateway> {
  if (!binary)
    throw new Error(
      "the prometheus-pushgateway binary is missing: CI must install it (apt-get install -y " +
        "--no-install-recommends prometheus-pushgateway), or set PUSHGATEWAY_BINARY",
    );
  const port = await freePort();
  const target = `127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(binary, [`--web.listen-address=${target}`, "--persistence.file="], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const url = `http://${target}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return { url, target, stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`the Pushgateway did not become ready on ${target}: ${output}`);
}

import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import { connect } from "../../src/agents/docker/engine.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { CLI, type CliResult, ensureCliBuilt, ROOT, runCli } from "../support/cli.js";
import { describeWithDocker, requireDocker } from "../support/docker.js";

/**
 * Reaching the engine fails safe: a missing socket, a socket this user may not use, and a socket that
 * accepts but never answers all end the run with exit 4 within a bounded time, naming the socket, before
 * anything is injected. These need no engine at all: the sockets are this test's own.
 */

let dir: string;
const servers: { server: net.Server; sockets: Set<net.Socket> }[] = [];

beforeAll(ensureCliBuilt, 180_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-docker-engine-"));
  await chmod(dir, 0o777);
});
afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await rm(dir, { recursive: true, force: true });
});

/** A unix socket that accepts connections and never says a word. */
async function silentSocket(path: string): Promise<net.Server> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  servers.push({ server, sockets });
  return server;
}

/** An experiment that would pause a container, with `docker` as its engine configuration. */
async function experiment(docker: Record<string, unknown> | undefined): Promise<string> {
  const file = join(dir, "pause.yaml");
  const config = docker ? `configuration:\n  docker: ${JSON.stringify(docker)}\n` : "";
  await writeFile(
    file,
    `version: 1
title: payments paused
${config}steady-state:
  probes:
    - name: payments runs
      docker.running: { name: payments }
      tolerance: true
method:
  - action: docker.pause
    target: { name: payments }
    duration: 2s
`,
  );
  return file;
}

function run(file: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult & { ms: number }> {
  const start = Date.now();
  return runCli(
    ["run", file, "--ledger", join(dir, "ledger"), "--no-reports", "--journal", join(dir, "j.json")],
    {
      env,
      timeoutMs: 40_000,
    },
  ).then((r) => ({ ...r, ms: Date.now() - start }));
}

describe("an unusable docker engine", () => {
  it("is exit 4 naming the socket when DOCKER_HOST points at no socket", async () => {
    const socket = join(dir, "missing.sock");
    const r = await run(await experiment(undefined), { DOCKER_HOST: `unix://${socket}` });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr + r.stdout).toContain(
      `docker engine at the socket ${socket} unreachable: no such socket`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("is exit 4 within a bounded time when the socket accepts but never answers", async () => {
    const socket = join(dir, "hang.sock");
    await silentSocket(socket);
    const r = await run(await experiment({ host: `unix://${socket}`, timeout: 500 }));
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr + r.stdout).toContain(
      `docker engine at the socket ${socket} unreachable: no answer within 500ms, 3 tries`,
    );
    // 3 tries of 500 ms with 250 + 500 ms of backoff, plus the CLI's start.
    expect(r.ms).toBeLessThan(15_000);
    expect(r.timedOut).toBe(false);
  });

  it("is exit 4 naming the address when nothing listens on a tcp:// engine", async () => {
    const port = await freePort();
    const r = await run(await experiment({ host: `tcp://127.0.0.1:${port}`, timeout: 1000 }));
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr + r.stdout).toContain(
      `docker engine at tcp://127.0.0.1:${port} unreachable: connection refused`,
    );
  });

  it("stops waiting for a silent engine as soon as the run is aborted", async () => {
    const socket = join(dir, "slow.sock");
    await silentSocket(socket);
    const abort = new AbortController();
    const start = Date.now();
    setTimeout(() => abort.abort(), 300);
    const err = await connect({ host: `unix://${socket}`, timeoutMs: 60_000 }, abort.signal).catch((e) => e);
    expect(err).toBeInstanceOf(ChaosError);
    expect((err as ChaosError).message).toBe(
      `docker engine at the socket ${socket} unreachable: interrupted`,
    );
    expect(Date.now() - start).toBeLessThan(5_000);
  });

  it("says permission denied when this user may not use the socket", async () => {
    const socket = join(dir, "private.sock");
    await silentSocket(socket);
    const file = await experiment({ host: `unix://${socket}`, timeout: 500 });
    const asRoot = process.getuid?.() === 0;
    // Root passes any file mode, so the CLI runs as nobody then; anyone else is refused a mode-000 socket.
    await chmod(socket, asRoot ? 0o600 : 0o000);
    const child = spawn(
      process.execPath,
      [CLI, "run", file, "--ledger", join(dir, "ledger"), "--no-reports", "--journal", join(dir, "j.json")],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) },
    );
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, output).toBe(4);
    expect(output).toContain(`permission denied on the socket ${socket}`);
  });
});

describeWithDocker("the engine the docker suites use", () => {
  // The other docker suites need it in their beforeAll; this test makes a missing engine count as a failed
  // test in CI's summary too, not only as a failed file.
  it("answers at DOCKER_HOST", async () => {
    await expect(requireDocker()).resolves.toBeDefined();
  });
});

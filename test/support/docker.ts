import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import Docker from "dockerode";
import { describe } from "vitest";
import { ensureCliBuilt, ROOT } from "./cli.js";

/**
 * Helpers for suites that need a real Docker engine, found through DOCKER_HOST (`scripts/dockerd.sh start`
 * prints one), else the default socket. Without an engine a suite is skipped on a developer's machine, with
 * a message, but fails in CI (CI must start one, so a green run never hides a skipped suite).
 */

export const dockerHost = process.env.DOCKER_HOST?.trim() || "unix:///var/run/docker.sock";
const socket = dockerHost.startsWith("unix://") ? dockerHost.slice("unix://".length) : undefined;
export const hasDocker = socket === undefined || existsSync(socket);

if (!hasDocker && !process.env.CI) {
  console.warn(
    `docker suites skipped: no engine at ${dockerHost} (start one with \`scripts/dockerd.sh start\` and export the DOCKER_HOST it prints)`,
  );
}

/** `describe` when an engine seems present or we run in CI (where its absence must fail), else `describe.skip`. */
export const describeWithDocker = hasDocker || process.env.CI ? describe : describe.skip;

/** A client for the test engine (socket or tcp://). */
export function testDocker(): Docker {
  if (socket) return new Docker({ socketPath: socket });
  const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375) });
}

/**
 * Checks that the engine answers, for a suite's beforeAll.
 * @throws Error naming the address when it does not (in CI this fails the suite on purpose).
 */
export async function requireDocker(): Promise<Docker> {
  const docker = testDocker();
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 5 s")), 5_000)),
    ]);
  } catch (err) {
    throw new Error(
      `no Docker engine answers at ${dockerHost} (${(err as Error).message}): CI must start one ` +
        "(scripts/dockerd.sh start) and export DOCKER_HOST",
    );
  }
  return docker;
}

let image: Promise<string> | undefined;

/**
 * The sample app's image (node, its libraries, the built app), built offline by
 * examples/target-app/docker/build-image.sh once per test process; the script itself skips the import when
 * the tag (a hash of the filesystem) exists. Needs dist/ (call ensureCliBuilt first).
 * @throws Error with the script's output when it fails.
 */
export function appImage(): Promise<string> {
  image ??= new Promise((resolve, reject) => {
    execFile(
      join(ROOT, "examples", "target-app", "docker", "build-image.sh"),
      [],
      { cwd: ROOT, env: { ...process.env, DOCKER_HOST: dockerHost }, timeout: 120_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`build-image.sh failed: ${stderr}`)) : resolve(stdout.trim()),
    );
  });
  return image;
}

/**
 * A node program that idles until SIGTERM (node as pid 1 ignores it otherwise) and says "ready" once it
 * listens for it: a signal sent before then would be lost.
 */
export const IDLE = [
  "/usr/bin/node",
  "-e",
  "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1 << 30); console.log('ready');",
];

export interface TestContainerOptions {
  labels?: Record<string, string>;
  restart?: "no" | "always" | "on-failure" | "unless-stopped";
  /** A healthcheck argv (exec form) run every 500 ms. */
  health?: string[];
  cmd?: string[];
  env?: string[];
  /** Leave it created (not started). */
  created?: boolean;
}

/**
 * Containers for one test file: each named `chaoskit-test-<unique>-<name>` and labelled
 * `chaoskit.test=<unique>`, all on the host network, all removed by `removeAll()`.
 */
export class TestContainers {
  readonly id = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  constructor(
    readonly docker: Docker,
    readonly image: string,
  ) {}

  /** The full name of a test container. */
  name(short: string): string {
    return `chaoskit-test-${this.id}-${short}`;
  }

  /** Creates and starts a container. @throws the engine's error. */
  async start(short: string, opts: TestContainerOptions = {}): Promise<Docker.Container> {
    const container = await this.docker.createContainer({
      name: this.name(short),
      Image: this.image,
      Cmd: opts.cmd ?? IDLE,
      Env: opts.env,
      Labels: { "chaoskit.test": this.id, ...opts.labels },
      HostConfig: {
        NetworkMode: "host",
        RestartPolicy: { Name: opts.restart ?? "no" },
      },
      ...(opts.health
        ? {
            Healthcheck: {
              Test: ["CMD", ...opts.health],
              Interval: 500_000_000,
              Timeout: 2_000_000_000,
              Retries: 1,
              StartPeriod: 0,
            },
          }
        : {}),
    });
    if (opts.created) return container;
    await container.start();
    if (!opts.cmd) await this.waitForLog(container, "ready");
    return container;
  }

  /** Polls a container's output until it holds `text`. @throws Error after `timeoutMs`. */
  async waitForLog(container: Docker.Container, text: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await container.logs({ stdout: true, stderr: true })).toString("utf8").includes(text)) {
      if (Date.now() > deadline) throw new Error(`${container.id} did not print ${text} in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The engine's view of a container: its state, or "gone". */
  async state(short: string): Promise<string> {
    try {
      const info = await this.docker.getContainer(this.name(short)).inspect();
      return info.State.Status;
    } catch {
      return "gone";
    }
  }

  /** Polls until the container's state satisfies `ok`. @throws Error after `timeoutMs`. */
  async waitForState(short: string, ok: (state: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.state(short);
      if (ok(state)) return state;
      if (Date.now() > deadline) throw new Error(`${this.name(short)} stayed ${state} for ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Removes every container of this file (forcefully, paused or not). Never throws. */
  async removeAll(): Promise<void> {
    const mine = await this.docker
      .listContainers({ all: true, filters: { label: [`chaoskit.test=${this.id}`] } })
      .catch(() => []);
    for (const c of mine) {
      await this.docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
  }
}

/**
 * What a docker suite's beforeAll needs: the engine answering, dist/ built, the app's image, and a set of
 * containers for this file.
 * @throws Error when the engine does not answer or the image cannot be built.
 */
export async function startDockerSuite(): Promise<TestContainers> {
  const docker = await requireDocker();
  await ensureCliBuilt();
  return new TestContainers(docker, await appImage());
}

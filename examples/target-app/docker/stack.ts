import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { metricsTargetsAt } from "../../demo/ports.js";
import { fragileList, parseFragile } from "../lib/practices.js";
import { waitForHealthy } from "../lib/wait.js";
import { PROXY_CONFIG_PATH, proxiesAt, serviceSpecs } from "./services.js";

export interface ContainerStackOptions {
  docker: Docker;
  /** The app's image: examples/target-app/docker/build-image.sh prints its tag. */
  image: string;
  /** Web listens on basePort; the other ports follow the process stack's layout. */
  basePort: number;
  /** Labelled as Compose labels its containers, so experiments find them the same way in both. */
  project: string;
  fragile?: string[];
  /** Checkouts per second (default 20). */
  rate?: number;
}

export interface ContainerStack {
  project: string;
  webUrl: string;
  toxiproxyUrl: string;
  /** The scrape targets: the five services, then the proxy's API (as the process stack's). */
  metricsTargets: string[];
  /** Removes every container of the stack. Never throws. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts the sample app as containers on the host network, labelled `com.docker.compose.project=<project>`
 * and `com.docker.compose.service=<service>` like `docker compose up` does; payments has the restart policy
 * `always`. Resolves once every service answers /healthz through its proxy.
 * @throws the engine's error, or Error when a service is not healthy within 30 s; whatever was created is
 * removed first.
 */
export async function startContainerStack(opts: ContainerStackOptions): Promise<ContainerStack> {
  const { docker, basePort, project } = opts;
  const fragile = fragileList(parseFragile(opts.fragile ?? [])).join(",");
  const configDir = mkdtempSync(join(tmpdir(), "chaoskit-container-stack-"));
  const configFile = join(configDir, "proxies.json");
  writeFileSync(configFile, JSON.stringify(proxiesAt(basePort)));
  const created: Docker.Container[] = [];
  const stop = async () => {
    for (const c of created.splice(0).reverse()) await c.remove({ force: true }).catch(() => undefined);
    rmSync(configDir, { recursive: true, force: true });
  };
  const url = (offset: number) => `http://127.0.0.1:${basePort + offset}`;
  try {
    for (const spec of serviceSpecs(basePort, fragile, opts.rate)) {
      if (spec.service === "loadgen") {
        // Load only once every link answers, as in the process stack.
        await waitForHealthy(
          [0, 1, 2, 3, 11, 12, 13].map((o) => `${url(o)}/healthz`),
          READY_TIMEOUT_MS,
        );
      }
      const container = await docker.createContainer({
        name: `${project}-${spec.service}-1`,
        Image: opts.image,
        Cmd: spec.command,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: { "com.docker.compose.project": project, "com.docker.compose.service": spec.service },
        HostConfig: {
          NetworkMode: "host",
          RestartPolicy: { Name: spec.restart },
          ...(spec.service === "proxy" ? { Binds: [`${configFile}:${PROXY_CONFIG_PATH}:ro`] } : {}),
        },
      });
      created.push(container);
      await container.start();
    }
    await waitForHealthy([`${url(4)}/healthz`], READY_TIMEOUT_MS);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    project,
    webUrl: url(0),
    toxiproxyUrl: url(10),
    metricsTargets: metricsTargetsAt(basePort),
    stop,
  };
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, expect } from "vitest";
import { freeBasePort, metricsTargetsAt } from "../../examples/demo/ports.js";
import { DOCKER_EXPERIMENTS } from "../../examples/target-app/docker/experiments.js";
import { type ContainerStack, startContainerStack } from "../../examples/target-app/docker/stack.js";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import { ensureCliBuilt } from "../support/cli.js";
import { appImage, describeWithDocker, dockerHost, requireDocker } from "../support/docker.js";
import { describeWithPrometheus, startTestPrometheus } from "../support/prometheus.js";
import { describeVerdicts, runExperiment } from "../support/verdicts.js";

/**
 * The docker experiments, through the built CLI, against the sample app in containers (the image built
 * offline, every container on the host network), a real Prometheus and a real engine: each must hold
 * against the resilient app and deviate once the practice it verifies is off. One app runs at a time, on
 * the same ports, so one Prometheus scrapes them all.
 */

const RUN_TIMEOUT_MS = 90_000;

describeWithDocker("the docker experiments against the sample app in containers", () => {
  describeWithPrometheus("with a real Prometheus", () => {
    let docker: Docker;
    let image: string;
    let work: string;
    let basePort: number;
    let prometheus: RunningPrometheus | undefined;
    const running = new Set<ContainerStack>();
    let stacks = 0;

    beforeAll(async () => {
      docker = await requireDocker();
      await ensureCliBuilt();
      image = await appImage();
      work = mkdtempSync(join(tmpdir(), "chaos-e2e-docker-"));
      basePort = await freeBasePort();
      prometheus = await startTestPrometheus(metricsTargetsAt(basePort));
    }, 180_000);

    afterAll(async () => {
      for (const stack of running) await stack.stop();
      await prometheus?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    describeVerdicts<ContainerStack>({
      experiments: DOCKER_EXPERIMENTS,
      rounds: process.env.CI ? 3 : 1,
      runTimeoutMs: RUN_TIMEOUT_MS,
      async start(fragile) {
        const project = `chaoskit-e2e-${process.pid}-${++stacks}`;
        const stack = await startContainerStack({ docker, image, basePort, project, fragile });
        running.add(stack);
        expect(stack.metricsTargets).toEqual(metricsTargetsAt(basePort));
        return stack;
      },
      async stop(stack) {
        if (!stack) return;
        await stack.stop();
        running.delete(stack);
      },
      async run(stack, experiment, label) {
        const verdict = await runExperiment(experiment, {
          prometheusUrl: prometheus!.url,
          env: {
            DOCKER_HOST: dockerHost,
            PROMETHEUS_URL: prometheus!.url,
            WEB_URL: stack.webUrl,
            COMPOSE_PROJECT: stack.project,
          },
          dir: join(work, label),
          ledger: join(work, "ledger"),
          timeoutMs: RUN_TIMEOUT_MS,
        });
        const containers = await docker.listContainers({
          all: true,
          filters: { label: [`com.docker.compose.project=${stack.project}`] },
        });
        const notRunning = containers.filter((c) => c.State !== "running");
        expect(
          notRunning.map((c) => `${c.Names[0]} ${c.State}`),
          "containers left paused or stopped",
        ).toEqual([]);
        return verdict;
      },
    });
  });
});

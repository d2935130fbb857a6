import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { type CliProcess, runCli, startCli, stopCli } from "../support/cli.js";
import { describeWithDocker, dockerHost, startDockerSuite, type TestContainers } from "../support/docker.js";

/** `chaos run` with docker faults on real containers: every way out leaves no container paused. */

let containers: TestContainers;
let dir: string;
let cli: CliProcess | undefined;

const ledger = () => join(dir, "ledger");
const journalPath = () => join(dir, "journal.json");
const ledgerFiles = () =>
  existsSync(ledger()) ? readdirSync(ledger()).filter((f) => f.endsWith(".json")) : [];
const readJournal = () => JSON.parse(readFileSync(journalPath(), "utf8")) as Journal;
const env = () => ({ DOCKER_HOST: dockerHost });

/** An experiment whose method is `method` (YAML lines), with a witness container that must keep running. */
async function experiment(method: string): Promise<string> {
  const file = join(dir, "experiment.yaml");
  await writeFile(
    file,
    `version: 1
title: containers under a docker fault
steady-state:
  probes:
    - name: the witness runs
      docker.running: { name: ${containers.name("witness")} }
      tolerance: true
  during: { every: 500ms }
method:
${method}`,
  );
  return file;
}

function start(file: string): CliProcess {
  cli = startCli(["run", file, "--ledger", ledger(), "--journal", journalPath(), "--no-reports"], {
    env: env(),
    timeoutMs: 40_000,
  });
  return cli;
}

async function untilPaused(run: CliProcess, short: string): Promise<void> {
  await containers
    .waitForState(short, (s) => s === "paused", 15_000)
    .catch((err: Error) => {
      throw new Error(`${err.message}\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`);
    });
}

describeWithDocker("chaos run with docker faults", () => {
  beforeAll(async () => {
    containers = await startDockerSuite();
  }, 180_000);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "chaos-docker-cli-"));
    await containers.start("witness");
  });

  afterEach(async () => {
    await stopCli(cli);
    cli = undefined;
    await containers.removeAll();
    await rm(dir, { recursive: true, force: true });
  });

  afterAll(async () => containers?.removeAll());

  it("unpauses the container, exits 3 and journals the revert when SIGINT arrives mid-pause", async () => {
    await containers.start("pay");
    const run = start(
      await experiment(
        `  - action: docker.pause\n    target: { name: ${containers.name("pay")} }\n    duration: 30s\n`,
      ),
    );
    await untilPaused(run, "pay");
    expect(ledgerFiles()).toHaveLength(1);
    run.child.kill("SIGINT");
    const r = await run.result;
    expect(r.code, r.stderr).toBe(3);
    expect(await containers.state("pay")).toBe("running");
    expect(ledgerFiles()).toEqual([]);
    expect(readJournal().rollbacks).toMatchObject([
      { status: "succeeded", description: `unpause container ${containers.name("pay")}` },
    ]);
  });

  it("leaves a SIGKILLed run's pause in the ledger, and chaos rollback in a fresh process unpauses it", async () => {
    await containers.start("pay");
    const run = start(
      await experiment(
        `  - action: docker.pause\n    target: { name: ${containers.name("pay")} }\n    duration: 30s\n`,
      ),
    );
    await untilPaused(run, "pay");
    run.child.kill("SIGKILL");
    expect((await run.result).signal).toBe("SIGKILL");
    expect(await containers.state("pay")).toBe("paused");
    const entries = ledgerFiles();
    expect(entries).toHaveLength(1);
    const entry = JSON.parse(readFileSync(join(ledger(), entries[0]!), "utf8"));
    expect(entry.revert).toMatchObject({
      agent: "docker",
      kind: "unpause",
      data: { engine: { host: dockerHost } },
    });

    // No DOCKER_HOST: the ledger entry names its engine.
    const rollback = await runCli(["rollback", "--ledger", ledger()], { env: { DOCKER_HOST: "" } });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain(`unpause container ${containers.name("pay")}`);
    expect(await containers.state("pay")).toBe("running");
    expect(ledgerFiles()).toEqual([]);
  });

  it("lets chaos rollback finish, naming it, when a SIGKILLed run's container was removed since", async () => {
    const gone = await containers.start("gone");
    const run = start(
      await experiment(
        `  - action: docker.pause\n    target: { name: ${containers.name("gone")} }\n    duration: 30s\n`,
      ),
    );
    await untilPaused(run, "gone");
    run.child.kill("SIGKILL");
    await run.result;
    await gone.remove({ force: true });
    const rollback = await runCli(["rollback", "--ledger", ledger()], { env: env() });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain(
      `removed by someone else during the run, so not unpaused: ${containers.name("gone")}`,
    );
    expect(ledgerFiles()).toEqual([]);
  });

  it("journals a container removed mid-run as a note on its rollback, and still judges the run", async () => {
    const victim = await containers.start("victim");
    const run = start(
      await experiment(
        `  - action: docker.pause\n    target: { name: ${containers.name("victim")} }\n    duration: 3s\n`,
      ),
    );
    await untilPaused(run, "victim");
    await victim.remove({ force: true });
    const r = await run.result;
    expect(r.code, r.stderr).toBe(0);
    const journal = readJournal();
    expect(journal.status).toBe("held");
    expect(journal.rollbacks).toHaveLength(1);
    expect(journal.rollbacks[0]).toMatchObject({ status: "succeeded" });
    expect(journal.rollbacks[0]!.note).toContain(
      `removed by someone else during the run, so not unpaused: ${containers.name("victim")}`,
    );
    expect(r.stdout).toContain(
      `removed by someone else during the run, so not unpaused: ${containers.name("victim")}`,
    );
    expect(ledgerFiles()).toEqual([]);
  });

  it("refuses a selection above its blast-radius cap with exit 4, touching nothing", async () => {
    const labels = { "chaoskit.role": "capped" };
    for (const n of ["c1", "c2", "c3"]) await containers.start(n, { labels });
    const r = await runCli(
      [
        "run",
        await experiment(
          `  - action: docker.stop\n    target: { labels: { chaoskit.role: capped, chaoskit.test: ${containers.id} }, select: { mode: percent, percent: 100, max: 2 } }\n`,
        ),
        "--ledger",
        ledger(),
        "--journal",
        journalPath(),
        "--no-reports",
      ],
      { env: env(), timeoutMs: 40_000 },
    );
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout + r.stderr).toContain("the selection would touch 3 targets, more than max 2");
    for (const n of ["c1", "c2", "c3"]) expect(await containers.state(n)).toBe("running");
    expect(ledgerFiles()).toEqual([]);
  });
});

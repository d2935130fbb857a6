import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parse } from "yaml";
import { expandFiles } from "../../src/cli/run-many.js";
import { ensureCliBuilt, ROOT, runCli } from "../../test/support/cli.js";
import { describeWithPrometheus, startTestPrometheus } from "../../test/support/prometheus.js";
import { freeBasePort, metricsTargetsAt } from "../demo/ports.js";
import type { RunningPrometheus } from "../target-app/prometheus-server.js";

const read = (file: string) => parse(readFileSync(join(ROOT, "examples", "ci", file), "utf8"));
const github = read("github-actions.yml");
const gitlab = read("gitlab-ci.yml");

/** Every shell line of a pipeline, in order. */
const githubLines: string[] = github.jobs.chaos.steps.flatMap((s: { run?: string }) =>
  (s.run ?? "").split("\n").filter((l: string) => l.trim() !== ""),
);
const gitlabLines: string[] = [...gitlab.chaos.before_script, ...gitlab.chaos.script];
const chaosCommands = (lines: string[]) => lines.filter((l) => l.startsWith("npx chaos "));

/** A command line as the shell hands it over: an unquoted glob expanded, double quotes removed. */
async function argv(line: string): Promise<string[]> {
  const words = line.match(/"[^"]*"|\S+/g) ?? [];
  const out: string[] = [];
  for (const w of words) {
    if (w.startsWith('"')) out.push(w.slice(1, -1));
    else if (w.includes("*")) out.push(...(await expandFiles([w])));
    else out.push(w);
  }
  return out;
}

it("the GitHub workflow and the GitLab job are valid YAML that gate on the same chaos commands", () => {
  expect(github.on).toHaveProperty("push");
  expect(github.jobs.chaos["runs-on"]).toBe("ubuntu-latest");
  expect(chaosCommands(githubLines)).toEqual([
    "npx chaos validate experiments/payments-*.yaml",
    'npx chaos run "experiments/payments-*.yaml" --out .chaos/ci',
  ]);
  expect(chaosCommands(gitlabLines)).toEqual(chaosCommands(githubLines));
  // both start the sample app and a Prometheus scraping it the same way
  for (const lines of [githubLines, gitlabLines]) {
    expect(lines).toContain("node dist/examples/target-app/cli.js start > target-app.log 2>&1 &");
    expect(lines.join(" ")).toContain("--config.file=.chaos/target-app/prometheus.yml");
  }
  // the combined JUnit is what the CI systems publish
  expect(gitlab.chaos.artifacts.reports.junit).toBe(".chaos/ci/junit.xml");
  const upload = github.jobs.chaos.steps.find((s: { uses?: string }) =>
    s.uses?.startsWith("actions/upload-artifact"),
  );
  expect(upload).toMatchObject({ if: "always()", with: { path: ".chaos/ci" } });
});

describeWithPrometheus("the pipelines' commands against the sample app", () => {
  let work: string;
  let app: ChildProcess | undefined;
  let prometheus: RunningPrometheus | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await ensureCliBuilt();
    work = mkdtempSync(join(tmpdir(), "chaos-ci-example-"));
    const basePort = await freeBasePort();
    // The pipelines' own start command, on free ports and a private run folder.
    app = spawn(
      process.execPath,
      [
        "dist/examples/target-app/cli.js",
        "start",
        "--base-port",
        String(basePort),
        "--rate",
        "5",
        "--run-dir",
        work,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    let banner = "";
    await new Promise<void>((resolve, reject) => {
      app!.stdout!.setEncoding("utf8").on("data", (c: string) => {
        banner += c;
        if (banner.includes("Ctrl-C stops")) resolve();
      });
      app!.on("exit", (code) => reject(new Error(`the sample app exited ${code}`)));
    });
    // the banner says how to start a Prometheus that scrapes it
    expect(banner).toContain(
      `prometheus --config.file=${join(work, "prometheus.yml")} --web.listen-address=`,
    );
    prometheus = await startTestPrometheus(metricsTargetsAt(basePort));
    env = {
      WEB_URL: `http://127.0.0.1:${basePort}`,
      TOXIPROXY_URL: `http://127.0.0.1:${basePort + 10}`,
      PROMETHEUS_URL: prometheus.url,
      TARGET_RUN_DIR: work,
    };
  }, 180_000);

  afterAll(async () => {
    app?.kill("SIGTERM");
    await prometheus?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("validates every bundled experiment and passes every preflight (the gate as a dry run, kept short)", async () => {
    for (const line of chaosCommands(githubLines)) {
      const args = (await argv(line)).slice(2);
      const dry = args[0] === "run" ? ["--dry-run", "--ledger", join(work, "ledger")] : [];
      const r = await runCli([...args, ...dry], { env, timeoutMs: 60_000 });
      expect(r.code, `${line}\n${r.stdout}${r.stderr}`).toBe(0);
      if (args[0] === "run") expect(r.stdout.match(/preflight passed/g)).toHaveLength(5);
    }
  }, 120_000);
});

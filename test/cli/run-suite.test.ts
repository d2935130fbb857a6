import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import type { Journal } from "../../src/experiments/journal.js";
import { ensureCliBuilt, runCli, startCli } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";

let dir: string;
let target: Target;

/** A freeze of the target; `probeTimeout` below the freeze makes it deviate, `during: none` makes it hold. */
const experiment = (title: string, during: string) => `version: 1
title: ${title}
configuration:
  health: "${"${env:NOPE:-/missing}"}"
steady-state:
  probes:
    - name: target answers
      http: { url: "${"$"}{configuration.base}${"$"}{configuration.health}", timeout: 150ms }
      tolerance: { status: 200 }
  ${during}
  after: { within: 2s, every: 100ms }
method:
  - action: process.suspend
    name: freeze the target
    target: { pid-file: "PIDFILE" }
    duration: 400ms
`;

beforeAll(async () => {
  await ensureCliBuilt();
  dir = await mkdtemp(join(tmpdir(), "chaos-suite-"));
  target = await startTarget();
  await mkdir(join(dir, "exp"));
  const withBase = (yaml: string) =>
    yaml
      .replace("PIDFILE", target.pidFile)
      .replace("configuration:\n", `configuration:\n  base: "${target.url}"\n`);
  await writeFile(join(dir, "exp", "1-holds.yaml"), withBase(experiment("holds", "during: none")));
  await writeFile(
    join(dir, "exp", "2-deviates.yaml"),
    withBase(experiment("deviates", "during: { every: 100ms }")),
  );
  await writeFile(join(dir, "vars.yaml"), "health: /health\n");
}, 180_000);

afterAll(async () => {
  await target?.stop();
  await rm(dir, { recursive: true, force: true });
});

const ledger = () => join(dir, "ledger");

describe("chaos run as a CI gate", () => {
  it("runs a glob in order, writes one combined JUnit and summary, exits with the worst verdict, and annotates GitHub", async () => {
    const summary = join(dir, "step-summary.md");
    await writeFile(summary, "earlier step\n");
    const out = join(dir, "suite");
    const r = await runCli(
      ["run", "exp/*.yaml", "--var-file", "vars.yaml", "--ledger", ledger(), "--out", out],
      { cwd: dir, timeoutMs: 40_000, env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary } },
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const journals = ["1-1-holds", "2-2-deviates"].map(
      (f) => JSON.parse(readFileSync(join(out, f, "journal.json"), "utf8")) as Journal,
    );
    expect(journals.map((j) => j.status)).toEqual(["held", "deviated"]);
    // the var file set configuration.health: the hypothesis probed /health, not /missing
    expect(journals[0]!.steadyState.before[0]!.summary).toMatch(/^200/);

    // one annotation per deviation, at the probe's line of the file that deviated
    const annotations = r.stdout.split("\n").filter((l) => l.startsWith("::error "));
    expect(annotations).toEqual([
      expect.stringMatching(
        /^::error file=exp\/2-deviates\.yaml,line=8,title=deviates%3A target answers \(during\)::\d+ of \d+ checks failed: /,
      ),
    ]);
    const step = readFileSync(summary, "utf8");
    expect(step.startsWith("earlier step\n# Chaos suite: 2 experiments")).toBe(true);
    expect(step).toContain("**Worst verdict: DEVIATED** · exit code 1");

    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(
      readFileSync(join(out, "junit.xml"), "utf8"),
    );
    const suites = [xml.testsuites.testsuite].flat() as { name: string; tests: string }[];
    expect(suites.map((s) => s.name)).toEqual(["holds", "deviates"]);
    expect(Number(xml.testsuites.tests)).toBe(suites.reduce((n, s) => n + Number(s.tests), 0));
    expect(readFileSync(join(out, "summary.md"), "utf8")).toMatch(
      /\| deviates \| exp\/2-deviates\.yaml \| [\w-]+ \| [\d-]+ [\d:]+ \| DEVIATED \|/,
    );
  }, 60_000);

  it("a signal stops the suite: the run in progress is rolled back and aborted, the next file never runs", async () => {
    const out = join(dir, "interrupted");
    const run = startCli(
      [
        "run",
        "exp/2-deviates.yaml",
        "exp/1-holds.yaml",
        "--var-file",
        "vars.yaml",
        "--ledger",
        ledger(),
        "--out",
        out,
      ],
      { cwd: dir, timeoutMs: 30_000 },
    );
    while (!run.stdout().includes("⚡ fault live")) await new Promise((r) => setTimeout(r, 20));
    run.child.kill("SIGINT");
    const r = await run.result;
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toContain("suite: 1 of 2 experiments run · exit 3");
    expect(r.stdout).not.toContain("the verdict is in");
    const j = JSON.parse(readFileSync(join(out, "1-2-deviates", "journal.json"), "utf8")) as Journal;
    expect(j).toMatchObject({ status: "aborted", aborted: { reason: "received SIGINT" } });
    expect(j.faults[0]!.revertedAt).toBeDefined();
    expect(existsSync(join(out, "2-1-holds"))).toBe(false);
    expect(await target.waitForState((s) => s !== "T")).not.toBe("T");
  }, 40_000);

  it("a --var naming no configuration value is an invalid command line, before anything runs", async () => {
    const conts = await target.conts();
    const r = await runCli(["run", "exp/1-holds.yaml", "--var", "helth=/x", "--ledger", ledger()], {
      cwd: dir,
      timeoutMs: 20_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--var helth: the configuration has no value "helth"');
    expect(await target.conts()).toBe(conts);
  });

  it("chaos report prints Markdown with --format md --out -, and combines several journals", async () => {
    const journal = (name: string) => join(dir, "suite", name, "journal.json");
    const markdown = (...journals: string[]) =>
      runCli(["report", ...journals, "--format", "md", "--out", "-"]);
    const one = await markdown(journal("2-2-deviates"));
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^# Chaos experiment: deviates/);
    const both = await markdown(journal("1-1-holds"), journal("2-2-deviates"));
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toMatch(/^# Chaos suite: 2 experiments/);
    // each row says which run it is and when
    expect(both.stdout).toMatch(/\| holds \|.*\| \d{8}-\d{6}-[0-9a-f]+ \| \d{4}-\d\d-\d\d \d\d:\d\d \|/);
    const out = join(dir, "combined");
    const all = await runCli(["report", journal("1-1-holds"), journal("2-2-deviates"), "--out", out]);
    expect(all.code, all.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["junit.xml", "summary.html", "summary.md"]);
    expect(readFileSync(join(out, "summary.html"), "utf8")).toContain('class="trend"');
  }, 30_000);

  it("an unreachable Prometheus before the method still writes a journal and reports, with the error as verdict", async () => {
    const port = await freePort(); // nothing listens there
    const file = join(dir, "prometheus-down.yaml");
    await writeFile(
      file,
      `version: 1
title: watched by a Prometheus that is down
configuration:
  prometheus: { url: "http://127.0.0.1:${port}", timeout: 300ms, retries: 0 }
steady-state:
  probes:
    - name: error rate
      prometheus: { query: "sum(rate(errors_total[1m]))" }
      tolerance: "< 1"
  during: { every: 100ms }
method:
  - action: process.suspend
    name: freeze the target
    target: { pid-file: "${target.pidFile}" }
    duration: 300ms
`,
    );
    const conts = await target.conts();
    const out = join(dir, "prometheus-down");
    const r = await runCli(["run", file, "--ledger", ledger(), "--journal", join(out, "journal.json")], {
      timeoutMs: 30_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    const j = JSON.parse(readFileSync(join(out, "journal.json"), "utf8")) as Journal;
    expect(j).toMatchObject({ status: "error", exitCode: 4, faults: [], method: [] });
    expect(j.reasons[0]).toMatch(/^could not start, nothing was injected: /);
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(
      readFileSync(join(out, "junit.xml"), "utf8"),
    );
    expect(junit.testsuites.errors).toBe("1");
    expect(readFileSync(join(out, "report.md"), "utf8")).toContain(
      "**Verdict: ERROR (the run could not judge)**",
    );
    expect(await target.conts()).toBe(conts); // nothing was injected
  }, 40_000);

  it("chaos run without a file is a one-line usage error pointing at chaos run --help", async () => {
    const r = await runCli(["run"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("chaos run --help");
  });
});

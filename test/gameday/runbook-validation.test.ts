import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCliBuilt, ROOT, runCli } from "../support/cli.js";
import { expectations, expectProblemsAt, problemLines } from "../support/fixtures.js";

const MALFORMED = join(ROOT, "test", "fixtures", "runbooks", "malformed");
const VALID = join(ROOT, "test", "fixtures", "runbooks", "valid");
const fixtures = readdirSync(MALFORMED)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
// `chaos gameday run` loads a runbook as validate does: a few fixtures show that it stops at the same place.
const RUN_FIXTURES = [
  "step-typo-kind.yaml",
  "experiment-without-expect.yaml",
  "abort-if-unknown-provider.yaml",
  "yaml-tab-indent.yaml",
];

let work: string;
beforeAll(async () => {
  await ensureCliBuilt();
  work = await mkdtemp(join(tmpdir(), "chaos-runbooks-"));
}, 180_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("malformed runbooks", () => {
  it("have fixtures, each stating where its error is", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
    for (const f of RUN_FIXTURES) expect(fixtures).toContain(f);
    for (const f of fixtures) expect(expectations(MALFORMED, f), f).not.toHaveLength(0);
  });

  it.concurrent.each(fixtures)("chaos validate rejects %s with exit 2 at its position", async (file) => {
    const r = await runCli(["validate", file], { cwd: MALFORMED });
    expectProblemsAt(r, file, expectations(MALFORMED, file));
  });

  it.concurrent.each(RUN_FIXTURES)(
    "chaos gameday run rejects %s with exit 2 before anything starts",
    async (file) => {
      const out = join(work, `run-${file}`);
      const r = await runCli(
        ["gameday", "run", file, "--yes", "--out", out, "--ledger", join(work, "ledger")],
        {
          cwd: MALFORMED,
        },
      );
      expectProblemsAt(r, file, expectations(MALFORMED, file));
      expect(existsSync(out)).toBe(false);
    },
  );

  it("reports the problems of an experiment a runbook names at the experiment's own lines", async () => {
    const experiment = join(work, "broken.yaml");
    await writeFile(experiment, "version: 1\ntitle: broken\nmethod:\n  - action: process.suspnd\n");
    const runbook = join(work, "names-broken.yaml");
    await writeFile(runbook, "title: t\nsteps:\n  - experiment: broken.yaml\n    expect: held\n");
    const r = await runCli(["validate", runbook]);
    expect(r.code).toBe(2);
    expect(problemLines(r.stderr, experiment).join("\n")).toMatch(/:4:13: .*did you mean "process.suspend"/);
  });
});

describe("chaos validate with runbooks", () => {
  it("accepts a runbook with every kind of step next to an experiment", async () => {
    const r = await runCli(["validate", "every-kind.yaml", "freeze.yaml"], { cwd: VALID });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("✓ every-kind.yaml");
    expect(r.stdout).toContain("✓ freeze.yaml");
  });

  it("accepts the example GameDay against the sample app", async () => {
    const r = await runCli(["validate", join("examples", "gameday", "payments.yaml")]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("chaos gameday plan", () => {
  it("prints every step, each experiment's faults and targets, and touches nothing", async () => {
    const r = await runCli(["gameday", "plan", join(ROOT, "examples", "gameday", "payments.yaml")], {
      cwd: work,
    });
    expect(r.code, r.stderr).toBe(0);
    for (const id of [
      "announce",
      "slow-gateway",
      "dashboards",
      "go-outage",
      "gateway-down",
      "payments-crash",
    ])
      expect(r.stdout).toContain(id);
    expect(r.stdout).toMatch(/toxiproxy\.latency .*target \{ proxy: payments-gateway \}/);
    expect(r.stdout).toMatch(/toxiproxy\.down .*target \{ proxy: payments-gateway \}/);
    expect(r.stdout).toMatch(/process\.kill .*target \{ pid-file: .*payments\.pid \}/);
    expect(r.stdout).toContain("GameDay aborts if more than 80% of checkouts fail");
    expect(r.stdout).toContain("5 actions in 3 experiments; nothing was touched");
    // each experiment's plan sits under its step: every line of a step is indented, none starts at column 0
    for (const block of r.stdout.split("\n\n").filter((b) => /^\d+\. \S+ \[experiment\]/.test(b))) {
      const [, ...body] = block.trimEnd().split("\n");
      expect(body.length).toBeGreaterThan(5);
      for (const line of body) expect(line, block).toMatch(/^ {3}/);
    }
    expect(existsSync(join(work, ".chaos"))).toBe(false);
  });
});

describe("answers for a run without a person", () => {
  const runbook = join(VALID, "every-kind.yaml");
  const run = async (answers: string, ...extra: string[]) => {
    const file = join(work, `answers-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, answers);
    const out = join(work, `out-${Math.random().toString(36).slice(2)}`);
    const r = await runCli(["gameday", "run", runbook, "--answers", file, "--out", out, ...extra]);
    return { r, file, out };
  };

  it("rejects an answer for a step that asks nothing, at its line, with the id it was meant to be", async () => {
    const { r, file, out } = await run("preconditions: yes\nhello: done\nsen: a lot\ngo-on: go\n");
    expect(r.code, r.stderr).toBe(2);
    expect(problemLines(r.stderr, file).join("\n")).toContain(
      `${file}:3:1: sen: no step "sen" asks a question (did you mean "seen"?)`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("rejects a decision that is neither go nor no-go, at its value", async () => {
    const { r, file } = await run("preconditions: yes\nhello: done\nseen: a lot\ngo-on: maybe\n");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:4:8: go-on: "maybe" is neither go nor no-go`);
  });

  it("refuses to start when a prompt has no recorded answer", async () => {
    const { r, out } = await run("preconditions: yes\nhello: done\ngo-on: go\n");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no recorded answer for "seen" (observe)');
    expect(existsSync(out)).toBe(false);
  });

  it("refuses --yes alone when an observation needs an answer", async () => {
    const r = await runCli(["gameday", "run", runbook, "--yes", "--out", join(work, "yes-only")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'no recorded answer for "seen" (observe) (observations need an answer in --answers FILE)',
    );
  });

  it("refuses to ask questions without a terminal", async () => {
    const r = await runCli(["gameday", "run", runbook, "--out", join(work, "no-tty")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "no terminal to ask the questions in (run it in a terminal, or pass --answers FILE and/or --yes)",
    );
  });
});

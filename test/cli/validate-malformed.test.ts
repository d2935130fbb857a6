import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CliResult, ensureCliBuilt, ROOT, runCli } from "../support/cli.js";
import { expectations as expectationsIn, expectProblemsAt, problemLines } from "../support/fixtures.js";

const DIR = join(ROOT, "test", "fixtures", "malformed");

const expectations = (file: string) => expectationsIn(DIR, file);

const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

const runs = new Map<string, Promise<CliResult>>();
/** `chaos validate FILE` in the fixtures folder, run once per file however many tests look at it. */
function validate(file: string): Promise<CliResult> {
  let run = runs.get(file);
  if (!run) {
    run = runCli(["validate", file], { cwd: DIR });
    runs.set(file, run);
  }
  return run;
}

beforeAll(ensureCliBuilt, 180_000);

describe("chaos validate on malformed experiments", () => {
  it("has at least 35 fixtures, each stating where its error is", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(35);
    for (const f of fixtures) expect(expectations(f), f).not.toHaveLength(0);
  });

  it.concurrent.each(fixtures)(
    "rejects %s with exit 2, its position and message, no stack trace",
    async (file) => {
      const r = await validate(file);
      expectProblemsAt(r, file, expectations(file));
      expect(r.stdout).not.toContain("✓");
    },
  );

  it("reports every problem of a file at once, in source order, with a count", async () => {
    const file = "several-problems-at-once.yaml";
    const r = await validate(file);
    expect(r.code).toBe(2);
    const lines = problemLines(r.stderr, file);
    expect(lines).toHaveLength(expectations(file).length);
    expect(r.stderr).toContain(`${lines.length} problems found`);
    const positions = lines.map((l) => l.split(":").slice(1, 3).map(Number) as [number, number]);
    const sorted = [...positions].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(positions).toEqual(sorted);
  });

  it("suggests the key or action a typo was meant to be", async () => {
    const cases: [string, string][] = [
      ["typo-top-level-key.yaml", 'did you mean "stop-when"?'],
      ["typo-tolerance-key.yaml", 'did you mean "tolerance"?'],
      ["unknown-action.yaml", 'unknown action "process.suspnd" (did you mean "process.suspend"?)'],
      ["unknown-probe-provider.yaml", 'did you mean "http"?'],
      ["http-typo-arg.yaml", 'did you mean "timeout"?'],
      ["unknown-tolerance-field.yaml", 'did you mean "latency"?'],
    ];
    const results = await Promise.all(cases.map(([f]) => validate(f)));
    results.forEach((r, i) => {
      expect(r.stderr).toContain(cases[i]![1]);
    });
  });

  it("adds a hint on how to fix what a message alone does not explain", async () => {
    const cases: [string, string][] = [
      ["yaml-tab-indent.yaml", "(check indentation, quotes and colons on this line)"],
      ["missing-env-no-default.yaml", "(set CHAOS_FIXTURE_SURELY_UNSET, or give a default:"],
      ["unknown-secret-ref.yaml", "(declare it under secrets:"],
      ["bad-duration.yaml", "(a duration such as 300ms, 2s"],
      ["probe-without-tolerance.yaml", '(e.g. tolerance: "< 0.3"'],
      ["two-providers-in-probe.yaml", "(split it into two probes)"],
      ["empty-range.yaml", "(write [low, high] with low ≤ high)"],
      ["empty-outcome-not-enum.yaml", '(use one of: "pass", "fail")'],
      ["not-a-mapping.yaml", "(see experiments/ for examples)"],
    ];
    const results = await Promise.all(cases.map(([f]) => validate(f)));
    results.forEach((r, i) => {
      expect(r.stderr).toContain(cases[i]![1]);
    });
  });

  it("lists the known names when nothing is close to what was written", async () => {
    const r = await validate("unknown-agent.yaml");
    expect(r.stderr).toMatch(/known: .*process\.suspend/);
  });

  it("checks every file given and fails if any one is malformed", async () => {
    const good = join(ROOT, "test", "fixtures", "valid", "suspend-with-health.yaml");
    const r = await runCli(["validate", good, join(DIR, "version-2.yaml"), join(DIR, "method-empty.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`✓ ${good}`);
    expect(r.stderr).toContain("version-2.yaml:2:10:");
    expect(r.stderr).toContain("method-empty.yaml:4:9:");
  });

  it("accepts a well-formed experiment with exit 0", async () => {
    const r = await runCli(["validate", join(ROOT, "test", "fixtures", "valid", "suspend-with-health.yaml")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("says a missing file is missing, with exit 2 and no stack trace", async () => {
    const r = await runCli(["validate", "no-such-experiment.yaml"], { cwd: DIR });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no-such-experiment.yaml: no such file");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultRegistry } from "../../src/agents/index.js";
import { ChaosError, exitCodeFor, ValidationErrors } from "../../src/experiments/errors.js";
import { loadExperiment } from "../../src/experiments/load.js";
import { type CliResult, ensureCliBuilt, ROOT, runCli } from "../support/cli.js";
import { expectations as expectationsIn, expectProblemsAt, problemLines } from "../support/fixtures.js";

const DIR = join(ROOT, "test", "fixtures", "malformed");

const expectations = (file: string) => expectationsIn(DIR, file);

/** The hand-written fixtures, then those made by scripts/malformed-corpus.mjs (as `generated/<name>`). */
const fixtures = [
  ...readdirSync(DIR).filter((f) => f.endsWith(".yaml")),
  ...readdirSync(join(DIR, "generated")).map((f) => `generated/${f}`),
].sort();
/** Every twelfth fixture also goes through the built CLI; the rest are loaded in this process. */
const cliSample = fixtures.filter((_, i) => i % 12 === 0);
const registry = defaultRegistry();

/** What `chaos validate` prints for a file and the exit code it maps to, from the loader in this process. */
async function loadInProcess(file: string): Promise<{ code: number; lines: string[]; thrown: unknown }> {
  try {
    await loadExperiment(join(DIR, file), { registry, env: {} });
    return { code: 0, lines: [], thrown: undefined };
  } catch (err) {
    const errors = err instanceof ValidationErrors ? err.errors : [err as ChaosError];
    const lines = errors.map((e) => (e instanceof ChaosError ? e.format() : String((e as Error).stack)));
    return { code: exitCodeFor(err), lines: lines.map((l) => l.replace(join(DIR, file), file)), thrown: err };
  }
}

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
  it("has at least 250 fixtures, each stating where its error is", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(250);
    for (const f of fixtures) expect(expectations(f), f).not.toHaveLength(0);
  });

  it.each(fixtures)("the loader rejects %s as invalid, at its position, with its message", async (file) => {
    const r = await loadInProcess(file);
    expect(r.thrown, file).toBeInstanceOf(ChaosError);
    expect(r.code).toBe(2);
    for (const line of r.lines) expect(line).toMatch(/^[^\n]+:\d+:\d+: /);
    for (const e of expectations(file)) {
      const at = r.lines.filter((l) => l.startsWith(`${file}:${e.line}:${e.col}: `));
      expect(
        at.some((l) => l.includes(e.text)),
        `expected "${e.text}" at ${e.line}:${e.col} in:\n${r.lines.join("\n")}`,
      ).toBe(true);
    }
  });

  it.concurrent.each(cliSample)(
    "chaos validate rejects %s with exit 2, its position and message, no stack trace",
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
      ["bad-duration.yaml", "(a duration with a unit: 300ms, 2s"],
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

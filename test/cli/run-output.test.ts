import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { CLI, ensureCliBuilt, ROOT, runCli } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";

let dir: string;
let target: Target;
let file: string;

beforeAll(async () => {
  await ensureCliBuilt();
  dir = await mkdtemp(join(tmpdir(), "chaos-output-"));
  target = await startTarget();
  file = join(dir, "freeze.yaml");
  await writeFile(
    file,
    `version: 1
title: the target survives a freeze
steady-state:
  probes:
    - name: target answers
      http: { url: "${target.url}/health", timeout: 200ms }
      tolerance: { status: 200 }
  during: { every: 200ms }
  after: { within: 3s, every: 200ms }
stop-when:
  - name: kill switch
    probe: { http: { url: "${target.url}/health", timeout: 200ms } }
    when: { status: 500 }
    on-error: continue
method:
  - action: process.suspend
    name: freeze the target
    target: { pid-file: "${target.pidFile}" }
    duration: 1500ms
`,
  );
}, 180_000);

afterAll(async () => {
  await target?.stop();
  await rm(dir, { recursive: true, force: true });
});

const args = (name: string, ...extra: string[]) => [
  "run",
  file,
  "--ledger",
  join(dir, "ledger"),
  "--journal",
  join(dir, name, "journal.json"),
  ...extra,
];
const journalOf = (name: string) =>
  JSON.parse(readFileSync(join(dir, name, "journal.json"), "utf8")) as Journal;

/** Runs the CLI in a real pseudo-terminal (util-linux `script`), returning everything the terminal received. */
function inTerminal(cliArgs: string[]): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, CLI, ...cliArgs].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color", COLUMNS: "120" };
    delete env.NO_COLOR;
    delete env.CHAOS_LEDGER;
    const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: ROOT, env });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      output += c;
    });
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("chaos run output", () => {
  it("in a terminal, redraws a live block in place: phase, the fault's elapsed and remaining time, each probe's latest value", async () => {
    const r = await inTerminal(args("tty"));
    expect(r.code, r.output).toBe(1);
    // the block is redrawn: the cursor goes back up over it
    expect(r.output).toMatch(/\x1b\[\d+F\x1b\[0J/);
    const frames = [...r.output.matchAll(/freeze the target · live ([\d.]+m?s), ([\d.]+m?s) left/g)];
    // several different captures while the fault is live, the remaining time counting down
    expect(new Set(frames.map((m) => m[2])).size).toBeGreaterThan(2);
    expect(r.output).toMatch(/target answers\s+.*tolerance status 200/);
    expect(r.output).toMatch(/kill switch\s+.*stop when status 500/);
    expect(r.output).toMatch(/checks \d+ done, [1-9]\d* failed/);
    expect(r.output).toContain("● method");
    // logs stay out of the way: no pino record in the terminal at the default level
    expect(r.output).not.toContain("runId");
    // the summary at the end
    expect(r.output).toMatch(/probe\s+kind\s+before\s+during\s+after\s+worst\s+tolerance/);
    expect(r.output).toContain("verdict:");
  }, 30_000);

  it("through a pipe, prints timestamped lines without control characters or repeats, then the summary", async () => {
    const r = await runCli(args("pipe"), { timeoutMs: 25_000 });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    const lines = r.stdout.split("\n");
    const progress = lines.slice(0, lines.indexOf(""));
    expect(progress.length).toBeGreaterThan(5);
    for (const l of progress) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} /);
    const texts = progress.map((l) => l.slice(13));
    // no line twice: repeated checks of a probe in a phase are counted instead
    expect(texts.length).toBe(new Set(texts).size);
    const j = journalOf("pipe");
    const during = j.checks!.during;
    expect(r.stdout).toContain(`Σ target answers [during]: ${during.total} checks, ${during.failed} failed`);
    expect(r.stdout).toContain("⚡ fault live: process.suspend");
    expect(r.stdout).toMatch(/target answers\s+hypothesis\s+1 ok\s+\d+, \d+ failed/);
    expect(r.stdout).toContain(`resilience score ${j.score}%`);
    expect(r.stderr).toBe("");
    // everything went to run.log, as JSON lines, at debug level
    const log = readFileSync(join(dir, "pipe", "run.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(log.some((e) => e.msg === "fault applied")).toBe(true);
    expect(log.some((e) => e.level === 20)).toBe(true);
  }, 30_000);

  it("JUnit counts as the journal does: one check per probe sample, with real times", async () => {
    const j = journalOf("pipe");
    const xml = readFileSync(join(dir, "pipe", "junit.xml"), "utf8");
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml);
    const suite = parsed.testsuites.testsuite;
    const cases = [suite.testcase].flat() as Record<string, unknown>[];
    const props = Object.fromEntries(
      [suite.properties.property].flat().map((p: { name: string; value: string }) => [p.name, p.value]),
    );
    expect(Number(props["checks.total"])).toBe(j.checks!.hypothesis.total);
    expect(Number(props["checks.failed"])).toBe(j.checks!.hypothesis.failed);
    expect(Number(props["run.score"])).toBe(j.score);
    const during = cases.find((c) => c.classname === "steady-state.during" && c.name === "target answers")!;
    const failure = during.failure as { message: string };
    expect(failure.message).toMatch(
      new RegExp(`^${j.checks!.during.failed} of ${j.checks!.during.total} checks failed`),
    );
    expect(j.reasons.join("\n")).toContain(
      `${j.checks!.during.failed} of ${j.checks!.during.total} checks failed`,
    );
    expect(Number(during.time)).toBeGreaterThan(1);
    const action = cases.find((c) => c.classname === "method.action")!;
    expect(Number(action.time)).toBeGreaterThanOrEqual(1.5);
    expect(Number(suite.tests)).toBe(cases.length);
    expect(Number(suite.failures)).toBe(cases.filter((c) => c.failure !== undefined).length);
  });

  it("--quiet prints only the verdict line and its reason, and --json only the journal", async () => {
    const quiet = await runCli(args("quiet", "--quiet"), { timeoutMs: 25_000 });
    expect(quiet.code).toBe(1);
    expect(quiet.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^verdict: DEVIATED \(exit 1, /),
      expect.stringMatching(/^ {2}hypothesis deviated during the method: /),
    ]);
    const json = await runCli(args("json", "--json", "--no-reports"), { timeoutMs: 25_000 });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual(journalOf("json"));
  }, 60_000);
});

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import yargs from "yargs";
import { memoryAgent } from "../../../test/support/memory-agent.js";
import { Registry } from "../../agents/registry.js";
import { reportCommand } from "../../cli/report.js";
import { Controller } from "../controller.js";
import { ChaosError, exitCodeFor } from "../errors.js";
import { writeJournal } from "../journal.js";
import { Ledger } from "../ledger.js";
import { parseExperiment } from "../load.js";
import { writeReports } from "./index.js";
import { deviatedJournal } from "./journals.fixture.js";
import { checkJournal } from "./read.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-report-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `chaos report ARGS` through yargs as the CLI would; returns what it printed. */
async function chaosReport(args: string[]): Promise<string[]> {
  const printed: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    printed.push(String(chunk).trimEnd());
    return true;
  });
  try {
    await yargs()
      .command(reportCommand)
      .strict()
      .fail(false)
      .parseAsync(["report", ...args]);
  } finally {
    vi.restoreAllMocks();
  }
  return printed;
}

describe("writeReports", () => {
  test("writes report.md, junit.xml and report.html into a folder it creates", async () => {
    const out = join(dir, "a", "b");
    const written = await writeReports(deviatedJournal(), out);
    expect(written).toEqual([
      { format: "markdown", path: join(out, "report.md") },
      { format: "junit", path: join(out, "junit.xml") },
      { format: "html", path: join(out, "report.html") },
    ]);
    expect((await readdir(out)).sort()).toEqual(["junit.xml", "report.html", "report.md"]);
    expect(await readFile(join(out, "junit.xml"), "utf8")).toMatch(/^<\?xml/);
  });

  test("writes only the formats asked for", async () => {
    const written = await writeReports(deviatedJournal(), dir, ["html"]);
    expect(written.map((w) => w.format)).toEqual(["html"]);
    expect(await readdir(dir)).toEqual(["report.html"]);
  });
});

describe("chaos report", () => {
  test("renders every report of a journal next to it and prints their paths", async () => {
    const journal = join(dir, "journal.json");
    await writeJournal(journal, deviatedJournal());
    const printed = await chaosReport([journal]);
    expect(printed).toEqual([join(dir, "report.md"), join(dir, "junit.xml"), join(dir, "report.html")]);
    expect(await readFile(join(dir, "report.md"), "utf8")).toMatch(/Verdict: DEVIATED/);
  });

  test("--out and --format choose the folder and the formats", async () => {
    const journal = join(dir, "journal.json");
    await writeJournal(journal, deviatedJournal());
    const out = join(dir, "reports");
    const printed = await chaosReport([journal, "--out", out, "--format", "junit", "--format", "markdown"]);
    expect(printed).toEqual([join(out, "junit.xml"), join(out, "report.md")]);
  });

  test("an unknown format is a usage error", async () => {
    const journal = join(dir, "journal.json");
    await writeJournal(journal, deviatedJournal());
    await expect(chaosReport([journal, "--format", "pdf"])).rejects.toThrow(/pdf/);
  });

  test("a file that is not a journal is an invalid input (exit 2) and nothing is written", async () => {
    const journal = join(dir, "journal.json");
    await writeFile(journal, JSON.stringify({ ...deviatedJournal(), status: "passed" }));
    const err = await chaosReport([journal]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChaosError);
    expect((err as ChaosError).message).toMatch(/\/status/);
    expect(exitCodeFor(err)).toBe(2);
    expect(await readdir(dir)).toEqual(["journal.json"]);
  });
});

describe("journals written by the controller", () => {
  function controllerFor(yaml: string) {
    const ledgerDir = join(dir, "ledger");
    const mem = memoryAgent({ ledgerDir });
    const registry = new Registry([mem.agent]);
    const experiment = parseExperiment("exp.yaml", `version: 1\ntitle: gauge under faults\n${yaml}`, {
      registry,
      env: {},
    });
    const controller = new Controller(experiment, {
      registry,
      log: pino({ level: "silent" }),
      ledger: new Ledger(ledgerDir),
      toolVersion: "test",
      env: {},
    });
    return { controller, state: mem.state };
  }

  test("follow the schema and render into every report", async () => {
    const { controller, state } = controllerFor(`steady-state:
  probes:
    - name: gauge low
      memory.gauge: {}
      tolerance: "< 10"
  during: { every: 20ms }
  after: { within: 2s, every: 20ms }
stop-when:
  - name: too many faults
    probe: { memory.faults: {} }
    when: "> 5"
    every: 20ms
method:
  - action: memory.fault
    target: { id: a }
    duration: 150ms
`);
    state.gauge = 1;
    state.gaugeAfter = [Number.NaN, 1]; // NaN once the fault is reverted, then recovered
    const j = await controller.run();
    const path = join(dir, "out", "journal.json");
    await writeJournal(path, j);
    const onDisk: unknown = JSON.parse(await readFile(path, "utf8"));
    expect(checkJournal(onDisk)).toEqual([]);
    expect(j.steadyState.during.length).toBeGreaterThan(0);
    expect(j.faults[0]?.revertedAt).toBeDefined();
    const { during, after } = j.steadyState;
    expect([...during, ...after].filter((r) => r.value === "NaN")).toHaveLength(1);

    await chaosReport([path]);
    const html = await readFile(join(dir, "out", "report.html"), "utf8");
    expect(html.match(/<svg xmlns/g)).toHaveLength(2); // the probe and the stop condition
    expect(html).toContain('class="fault"');
    // The NaN comes right after the revert: still in the method (a NaN), or in the after phase, where the
    // recovery that followed in time makes it "recovering" rather than a failure.
    const nan = [...during, ...after].find((r) => r.value === "NaN")!;
    expect(html).toContain(nan.phase === "after" ? 'class="pt-recovering"' : 'class="pt-nan"');
  });
});

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureCliBuilt, runCli } from "../../test/support/cli.js";
import { defaultRegistry } from "../agents/index.js";
import { parseExperiment } from "./load.js";
import { unobservableFaults } from "./observability.js";

const experiment = (during: string, method: string) => `version: 1
title: t
steady-state:
  probes:
    - name: up
      http: { url: "http://127.0.0.1:9/" }
      tolerance: { status: 200 }
${during}
method:
${method}
`;
const KILL = `  - name: kill it
    action: process.kill
    target: { name: "my-service" }`;
const warnings = (yaml: string) =>
  unobservableFaults(parseExperiment("e.yaml", yaml, { registry: defaultRegistry() })).map((w) => w.message);

describe("faults no check can see, found before the run", () => {
  it("no during: block means nothing is checked while faults are live", () => {
    expect(warnings(experiment("", KILL))).toEqual([expect.stringContaining("no during: block")]);
  });

  it("a kill with too little of the method after it, or a fault shorter than the interval", () => {
    expect(warnings(experiment("  during: { every: 2s }", `${KILL}\n  - pause: 1s`))).toEqual([
      expect.stringMatching(/^"kill it" is live for 1s .* less than during: every 2s/),
    ]);
    const short = `  - name: freeze
    action: process.suspend
    target: { name: "my-service" }
    duration: 500ms`;
    expect(warnings(experiment("  during: { every: 1s }", short))).toHaveLength(1);
  });

  it("says nothing when every fault can be seen, or when during: none accepts not looking", () => {
    expect(warnings(experiment("  during: { every: 1s }", `${KILL}\n  - pause: 5s`))).toEqual([]);
    expect(warnings(experiment("  during: none", KILL))).toEqual([]);
  });

  it("chaos validate prints the warning with file:line:col and still passes", async () => {
    await ensureCliBuilt();
    const dir = await mkdtemp(join(tmpdir(), "chaos-observability-"));
    try {
      const file = join(dir, "e.yaml");
      await writeFile(file, experiment("  during: { every: 2s }", `${KILL}\n  - pause: 1s`));
      const r = await runCli(["validate", file]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`✓ ${file}`);
      expect(r.stdout).toContain(`⚠ warning ${file}:10:5: "kill it" is live for 1s`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import type { Journal } from "../../src/experiments/journal.js";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import { describeWithPrometheus, startTestPrometheus } from "../support/prometheus.js";

/**
 * PromQL answers with as many digits as a float holds (`0.176578`). What a person reads, the verdict's
 * reason, the closing table and every report, rounds to 4 significant digits with the probe's unit; the
 * journal keeps the value as measured.
 */
describeWithPrometheus("probe values as people read them (real Prometheus)", () => {
  let prometheus: RunningPrometheus;
  let dir: string;
  beforeAll(async () => {
    await ensureCliBuilt();
    dir = await mkdtemp(join(tmpdir(), "chaos-precision-"));
    prometheus = await startTestPrometheus([]);
  }, 180_000);
  afterAll(async () => {
    await prometheus?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const experiment = (tolerance: string) => `version: 1
title: a p99 measured to six digits
configuration:
  prometheus:
    url: "${prometheus.url}"
steady-state:
  probes:
    - name: checkout p99
      prometheus: { query: "vector(0.176578)" }
      tolerance: "${tolerance}"
      unit: s
    - name: error ratio
      prometheus: { query: "vector(1.23456)" }
      tolerance: "< 5"
      unit: "%"
method:
  - pause: 10ms
`;

  async function run(name: string, tolerance: string, ...extra: string[]) {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, experiment(tolerance));
    const out = join(dir, name);
    const r = await runCli(["run", file, "--ledger", join(dir, `${name}.ledger`), "--out", out, ...extra], {
      timeoutMs: 60_000,
    });
    // The text a person reads, with XML's and HTML's escapes undone.
    const read = (f: string) =>
      readFileSync(join(out, f), "utf8").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
    return { ...r, out, read };
  }

  it("rounds the reason, the table and the Markdown, HTML and JUnit reports, and keeps the journal raw", async () => {
    const r = await run("deviated", "< 0.1");
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain("0.1766 is not < 0.1");
    expect(r.stdout).toContain("error ratio — 1.235% (1 series)"); // the line of a check
    expect(r.stdout).toMatch(/checkout p99 .* 0\.1766 s /); // the closing table's worst value
    const files = readdirSync(r.out);
    const shown = [r.stdout, r.stderr, ...files.filter((f) => /\.(md|html|xml)$/.test(f)).map(r.read)];
    expect(files.filter((f) => /\.(md|html|xml)$/.test(f)).length).toBe(3);
    for (const text of shown) {
      expect(text).not.toContain("0.176578");
      expect(text).not.toContain("1.23456");
    }
    for (const f of files.filter((f) => /\.(md|html|xml)$/.test(f))) {
      expect(r.read(f), f).toContain("0.1766 s");
      expect(r.read(f), f).toContain("0.1766 is not < 0.1");
    }
    expect(r.read(files.find((f) => f.endsWith(".md"))!)).toContain("1.235%");
    const journal = JSON.parse(r.read("journal.json")) as Journal;
    expect(journal.steadyState.before.map((p) => p.value)).toEqual([0.176578, 1.23456]);
  });

  it("gives the rounded reason with --quiet too, and more digits only where rounding would meet the bound", async () => {
    const [quiet, near] = await Promise.all([run("quiet", "< 0.1", "--quiet"), run("near", ">= 0.1766")]);
    expect(quiet.stdout).toContain("0.1766 is not < 0.1");
    expect(near.stdout).toContain("0.17658 is not >= 0.1766");
  });
});

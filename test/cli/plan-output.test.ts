import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureCliBuilt, runCli } from "../support/cli.js";

describe("chaos plan", () => {
  it("chaos plan keeps its indentation when a PromQL query spans several lines", async () => {
    await ensureCliBuilt();
    const dir = await mkdtemp(join(tmpdir(), "chaos-plan-promql-"));
    try {
      const file = join(dir, "slo.yaml");
      await writeFile(
        file,
        `version: 1
title: slo
steady-state:
  probes:
    - name: error ratio
      prometheus:
        query: |
          sum(rate(http_requests_total{code=~"5.."}[5m]))
            /
          sum(rate(http_requests_total[5m]))
      tolerance: "< 0.01"
  during: { every: 1s }
method:
  - pause: 1s
`,
      );
      const r = await runCli(["plan", file]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split("\n");
      // every line after the title is indented: none starts at the left edge in the middle of a query
      expect(lines.slice(1).filter((l) => !/^ {2}/.test(l))).toEqual([]);
      expect(lines).toContainEqual(expect.stringMatching(/^ {4}- error ratio .*\[5m\]\)\) \/ sum\(rate/));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const controller = fileURLToPath(new URL("../../src/experiments/controller.ts", import.meta.url));

describe("the controller reads as the lifecycle", () => {
  const source = readFileSync(controller, "utf8");

  test("it is at most 400 lines", () => {
    const lines = source.split("\n").length - (source.endsWith("\n") ? 1 : 0);
    expect(lines).toBeGreaterThan(50); // the file read is the controller, not an empty stand-in
    expect(lines).toBeLessThanOrEqual(400);
  });

  test("its phases appear in the order a run goes through them", () => {
    const at = [
      "0. preflight",
      "1. steady state before",
      "2. method",
      "3. rollbacks",
      "4. steady state after",
      "5. verdict",
    ].map((phase) => source.indexOf(`// ── ${phase}`));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  test("preflight, fault bookkeeping and hypothesis measurement live in modules of their own", () => {
    for (const module of ["./preflight.js", "./faults.js", "./hypothesis.js"])
      expect(source).toContain(`from "${module}"`);
    expect(source).not.toMatch(/private async preflight\(/);
    expect(source).not.toMatch(/private async prepareAgents\(/);
  });
});

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureCliBuilt, ROOT } from "../support/cli.js";

beforeAll(async () => {
  await ensureCliBuilt(); // the validators `chaos validate` runs are the ones the build precompiled
}, 180_000);

/**
 * Times the built schema check, in a process of its own as `chaos validate` runs it, on experiments whose
 * every step has a malformed duration (one problem per step). Returns [problems, milliseconds] per size.
 */
function timed(sizes: number[]): [number, number][] {
  const dist = (p: string) => pathToFileURL(join(ROOT, "dist", "src", "experiments", p)).href;
  const script = `
    import { checkSchema } from ${JSON.stringify(dist("schema-check.js"))};
    import schema from ${JSON.stringify(dist("schema/experiment.schema.json"))} with { type: "json" };
    const doc = (n) => ({ version: 1, title: "t",
      method: Array.from({ length: n }, (_, i) => ({ name: "s" + i, pause: "bogus" + i })) });
    const out = [];
    for (const n of ${JSON.stringify(sizes)}) {
      const data = doc(n);
      const start = performance.now();
      const problems = checkSchema(schema, data).length;
      out.push([problems, performance.now() - start]);
    }
    console.log(JSON.stringify(out));`;
  const stdout = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 110_000,
  });
  return JSON.parse(stdout) as [number, number][];
}

describe("chaos validate with thousands of problems", () => {
  it("takes time in proportion to the number of problems, not its square", () => {
    const [, base, more] = timed([1000, 4000, 16_000]); // 1000 warms up
    const [baseProblems, baseMs] = base!;
    const [moreProblems, moreMs] = more!;
    expect(baseProblems).toBe(4000);
    expect(moreProblems).toBe(16_000);
    // Four times the problems: about four times the time when linear, sixteen when quadratic (Ajv's generated
    // validators copied every error gathered so far at each step: 16,000 problems took ~50 s).
    expect(moreMs).toBeLessThan(10 * baseMs + 500);
  }, 120_000);
});

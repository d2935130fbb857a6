import { describe, expect, it } from "vitest";
import { ChaosError } from "../experiments/errors.js";
import { withVars } from "../experiments/vars.js";
import { readVars } from "./vars.js";

const collect = () => {
  const problems: string[] = [];
  return { problems, sink: { add: (_p: unknown, message: string) => void problems.push(message) } };
};

describe("--var", () => {
  it.each([
    "__proto__.toString=x",
    "nested.__proto__.valueOf=1",
    "__proto__.hasOwnProperty=1",
    "constructor.prototype.x=1",
  ])("refuses %s as a prototype, not a configuration value", async (v) => {
    const err = await readVars([v]).catch((e) => e);
    expect(err).toBeInstanceOf(ChaosError);
    expect((err as ChaosError).code).toBe("invalid");
    expect((err as ChaosError).message).toContain("prototype");
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });

  it("refuses toString, valueOf or hasOwnProperty for a name the experiment does not declare", async () => {
    for (const name of ["toString", "valueOf", "hasOwnProperty"]) {
      const { problems, sink } = collect();
      const vars = await readVars([`${name}=x`]);
      const out = withVars({ base: 1 }, vars!, sink);
      expect(problems).toEqual([`--var ${name}: the configuration has no value "${name}"`]);
      expect(Object.hasOwn(out, name)).toBe(false);
    }
  });

  it("still sets a declared name, dotted or not", async () => {
    const { problems, sink } = collect();
    const out = withVars({ a: 1, m: { b: 2 } }, (await readVars(["a=3", "m.b=4"]))!, sink);
    expect(problems).toEqual([]);
    expect(out).toEqual({ a: 3, m: { b: 4 } });
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { ensureCliBuilt } from "../support/cli.js";
import { GONE_WITHIN_MS, problemsOf, VANISHING_CASES } from "./world.js";

beforeAll(ensureCliBuilt, 180_000);

describe("a run whose world vanishes mid-fault", () => {
  it.each(VANISHING_CASES.map((c) => [c.name, c] as const))(
    "%s: reverts the fault, says so once, and is gone within 10 s",
    async (_name, c) => {
      const missing = c.unavailable();
      // In CI every case must run: a missing tool is a failure there, never a skip.
      if (missing && !process.env.CI) return;
      expect(missing, "this case cannot run here").toBeUndefined();
      const o = await c.run();
      expect(problemsOf(o), o.stderr).toEqual([]);
      expect(o.goneMs).toBeLessThanOrEqual(GONE_WITHIN_MS);
      expect(o.journal?.faults[0]?.revertedAt, "the journal records the revert").toBeDefined();
    },
    60_000,
  );
});

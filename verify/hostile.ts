import { ensureCliBuilt } from "../test/support/cli.js";
import { hostileCases, hostileProblems, runHostileCase } from "../test/support/hostile-cases.js";
import type { SectionResult } from "./section.js";

/**
 * Hostile endpoints: every case of test/support/hostile-cases.ts (Prometheus, the system under test and
 * Toxiproxy hanging, resetting, answering 500, garbage, HTML or a slow drip, and the signals among them) run
 * once through the built CLI and judged as test/cli/run-hostile.test.ts judges it: exit code, verdict and its
 * reason, the faults that went live each reverted, the time bound, no stack trace, nothing left behind.
 */
export async function run(): Promise<SectionResult> {
  await ensureCliBuilt();
  const cases = hostileCases();
  const failed: Record<string, string> = {};
  let wrongExit = 0;
  let overBound = 0;
  let leftBehind = 0;
  let slowest = 0;
  let slowestCase = "";
  for (const c of cases) {
    const o = await runHostileCase(c);
    const problems = hostileProblems(c, o);
    if (problems.length) failed[c.name] = problems.join("; ");
    if (o.code !== c.exit || (c.status !== undefined && o.journal?.status !== c.status)) wrongExit++;
    if (o.ms > c.boundMs) overBound++;
    leftBehind += o.toxicsLeft + o.ledgerLeft;
    if (o.ms > slowest) {
      slowest = o.ms;
      slowestCase = c.name;
    }
  }
  return {
    title: "Hostile endpoints (hang, reset, 500, garbage, HTML, slow drip)",
    figures: {
      "hostile cases tried": cases.length,
      "cases failed": Object.keys(failed).length,
      "wrong exit codes or verdicts": wrongExit,
      "runs over their time bound": overBound,
      "toxics or ledger entries left behind": leftBehind,
      "slowest run (ms)": `${slowest} (${slowestCase})`,
      ...failed,
    },
    ok: Object.keys(failed).length === 0,
  };
}

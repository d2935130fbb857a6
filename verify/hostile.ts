import { ensureCliBuilt } from "../test/support/cli.js";
import { hostileCases, runHostileCase } from "../test/support/hostile-cases.js";

/**
 * Hostile endpoints: every case of test/support/hostile-cases.ts (Prometheus, the system under test and
 * Toxiproxy hanging, resetting, answering 500, garbage, HTML or a slow drip) run once through the built CLI.
 * ok only when every run gave its expected exit code and verdict within its bound and left nothing behind.
 */
export async function run(): Promise<{
  title: string;
  figures: Record<string, number | string>;
  ok: boolean;
}> {
  await ensureCliBuilt();
  const cases = hostileCases();
  let wrongExit = 0;
  let overBound = 0;
  let leftBehind = 0;
  let slowest = 0;
  let slowestCase = "";
  for (const c of cases) {
    const o = await runHostileCase(c);
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
      "wrong exit codes": wrongExit,
      "runs over their time bound": overBound,
      "faults or ledger entries left behind": leftBehind,
      "slowest bounded exit (ms)": slowest,
      "slowest case": slowestCase,
    },
    ok: wrongExit === 0 && overBound === 0 && leftBehind === 0,
  };
}

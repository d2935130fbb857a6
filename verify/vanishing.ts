import { ensureCliBuilt } from "../test/support/cli.js";
import { GONE_WITHIN_MS, problemsOf, VANISHING_CASES } from "../test/vanishing/world.js";
import type { SectionResult } from "./section.js";

/**
 * The vanishing world (test/vanishing/): the output folder removed, the disk full, the terminal closed, each
 * while a fault is live. ok only when every case reverted its fault, said what happened once and was gone
 * within 10 s.
 */
export async function run(): Promise<SectionResult> {
  await ensureCliBuilt();
  const figures: Record<string, number | string> = {};
  let failed = 0;
  let skipped = 0;
  let slowest = 0;
  for (const c of VANISHING_CASES) {
    const missing = c.unavailable();
    if (missing) {
      skipped++;
      figures[c.name] = `not run: ${missing}`;
      continue;
    }
    const o = await c.run();
    const problems = problemsOf(o);
    if (problems.length) failed++;
    if (Number.isFinite(o.goneMs)) slowest = Math.max(slowest, o.goneMs);
    figures[c.name] = problems.length
      ? problems.join("; ")
      : `reverted, said once, gone in ${o.goneMs} ms (${o.journal?.status})`;
  }
  return {
    title: `vanishing world: every run ends, reverted, within ${GONE_WITHIN_MS / 1000} s`,
    figures: {
      "cases run": VANISHING_CASES.length - skipped,
      "cases failed": failed,
      "slowest exit after the world vanished (ms)": slowest,
      ...figures,
    },
    ok: failed === 0 && (skipped === 0 || !process.env.CI),
  };
}

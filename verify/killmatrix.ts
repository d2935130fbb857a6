import { describeCase, matrixSeed, runMatrix } from "../test/killmatrix/matrix.js";
import type { SectionResult } from "./section.js";

/**
 * The kill matrix (test/killmatrix/): seeded interruptions of real runs in every phase, then a check that
 * nothing remains and that the exit code is the journal's. KILL_MATRIX_SEED replays a run,
 * KILL_MATRIX_CASES sets how many cases (default 60).
 */
export async function run(): Promise<SectionResult> {
  const seed = matrixSeed();
  const cases = Number(process.env.KILL_MATRIX_CASES ?? 60);
  process.stdout.write(`kill matrix: seed ${seed}, ${cases} cases (replay with KILL_MATRIX_SEED=${seed})\n`);
  const result = await runMatrix({ seed, cases, concurrency: 2 });
  for (const r of result.cases.filter((c) => !c.passed)) process.stdout.write(`${describeCase(r)}\n`);
  return {
    title: "kill matrix: interrupted runs leave nothing behind",
    figures: { seed, ...result.figures },
    ok: result.ok,
  };
}

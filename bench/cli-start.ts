import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./stats.js";

/** `chaos --version` may take this much longer than `node -e 0`, and `chaos validate` of the bundled experiments this much. */
const TARGETS_MS = { version: 100, validate: 250 };
const ROUNDS = 15;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(ROOT, "dist", "src", "cli", "main.js");

/** Wall time of one process from spawn to exit, in ms; throws when it fails. */
function timed(args: string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "ignore" });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${r.status}`);
  return ms;
}

/**
 * Cold starts of the CLI against bare Node in the same run: each round runs `node -e 0`, `chaos --version`
 * and `chaos validate experiments/*.yaml` one after the other, so that the three see the same machine load;
 * the figures are medians, and the differences are what the CLI adds to Node's own start.
 */
export async function benchCliStart(): Promise<void> {
  const experiments = readdirSync(join(ROOT, "experiments"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => join("experiments", f));
  const runs = { node: [] as number[], version: [] as number[], validate: [] as number[] };
  timed([CLI, "--version"]); // warm the file cache once
  for (let i = 0; i < ROUNDS; i++) {
    runs.node.push(timed(["-e", "0"]));
    runs.version.push(timed([CLI, "--version"]));
    runs.validate.push(timed([CLI, "validate", ...experiments]));
  }
  const base = median(runs.node);
  const f = (ms: number) => ms.toFixed(0).padStart(5);
  console.log(`cold start, median of ${ROUNDS} rounds (${experiments.length} experiments validated)`);
  console.log(`  node -e 0                     ${f(base)} ms`);
  for (const [name, label] of [
    ["version", "chaos --version"],
    ["validate", "chaos validate experiments/*"],
  ] as const) {
    const ms = median(runs[name]);
    const extra = ms - base;
    const target = TARGETS_MS[name];
    console.log(
      `  ${label.padEnd(29)} ${f(ms)} ms  (+${extra.toFixed(0)} ms over node; target ≤ +${target} ms: ${extra <= target ? "met" : "MISSED"})`,
    );
  }
}

import { benchCliStart } from "./cli-start.js";
import { benchHttpProxy } from "./http-proxy.js";
import { benchKubernetes } from "./kubernetes.js";
import { benchNetwork } from "./network.js";
import { benchProxy } from "./proxy.js";

/** Every benchmark module, run one after the other (they measure the same machine, so never in parallel). */
const BENCHMARKS: [string, () => Promise<void>][] = [
  ["cli start", benchCliStart],
  ["proxy", benchProxy],
  ["http proxy", benchHttpProxy],
  ["kubernetes", benchKubernetes],
  ["network", benchNetwork],
];

for (const [name, run] of BENCHMARKS) {
  const start = performance.now();
  await run();
  console.log(`benchmark ${name} took ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

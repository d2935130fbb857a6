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

/** A section as named on the command line: `http-proxy`, `"http proxy"` and `HTTP_PROXY` are alike. */
const normalize = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[\s_-]+/g, " ")
    .trim();

// `npm run bench -- http-proxy network` runs only those sections, in the order above; none given: all.
const wanted = process.argv.slice(2).map(normalize);
const unknown = wanted.filter((name) => !BENCHMARKS.some(([known]) => known === name));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark section ${unknown.map((n) => `"${n}"`).join(", ")}; the sections are: ${BENCHMARKS.map(([n]) => n.replace(/ /g, "-")).join(", ")}`,
  );
  process.exit(2);
}

for (const [name, run] of BENCHMARKS) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const start = performance.now();
  await run();
  console.log(`benchmark ${name} took ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

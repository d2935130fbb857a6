import * as hostile from "./hostile.js";
import * as inputs from "./inputs.js";
import * as killmatrix from "./killmatrix.js";
import type { Section, SectionResult } from "./section.js";
import * as vanishing from "./vanishing.js";

/**
 * `npm run verify`: runs each section against the real toolkit and prints its figures; exits 1 when any
 * section is not ok. Sections are imported one by one, in the order they print.
 */
const SECTIONS: [name: string, section: Section][] = [
  ["killmatrix", killmatrix],
  ["hostile", hostile],
  ["inputs", inputs],
  ["vanishing", vanishing],
];

async function runSection(name: string, section: Section): Promise<SectionResult> {
  try {
    return await section.run();
  } catch (err) {
    return { title: name, figures: { error: (err as Error).message }, ok: false };
  }
}

function print(r: SectionResult, ms: number): void {
  const width = Math.max(...Object.keys(r.figures).map((k) => k.length));
  process.stdout.write(`\n${r.ok ? "ok  " : "FAIL"}  ${r.title}  (${(ms / 1000).toFixed(1)} s)\n`);
  for (const [k, v] of Object.entries(r.figures)) process.stdout.write(`      ${k.padEnd(width)}  ${v}\n`);
}

let allOk = true;
for (const [name, section] of SECTIONS) {
  const started = Date.now();
  process.stdout.write(`== ${name}\n`);
  const r = await runSection(name, section);
  print(r, Date.now() - started);
  allOk &&= r.ok;
}
process.stdout.write(`\n${allOk ? "verify: every section ok" : "verify: some section is not ok"}\n`);
process.exit(allOk ? 0 : 1);

import { readdir, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { figuresOf, scoreText } from "../experiments/checks.js";
import { ChaosError } from "../experiments/errors.js";
import type { Journal } from "../experiments/journal.js";
import { makeDir } from "../experiments/make-dir.js";
import type { Experiment } from "../experiments/model.js";
import { renderJUnit, renderMarkdown } from "../experiments/report/index.js";
import { renderSuiteMarkdown, suiteScore, worstExit } from "../experiments/report/suite.js";
import { STATUS_LABEL } from "../experiments/report/summary.js";
import { annotations, appendStepSummary, inGitHubActions } from "./github.js";
import { linesToStderr, say } from "./output.js";
import { columns } from "./summary-table.js";

/** What one `chaos run` of one file produced; no journal for a dry run. */
export interface RunOutcome {
  code: number;
  experiment: Experiment;
  journal?: Journal;
}

export interface SuiteArgs {
  journal?: string;
  out?: string;
  reports: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** Runs one file; `journal` is where its journal goes (default: the run's own folder). */
export type RunOne = (
  file: string,
  journal: string | undefined,
  opts: { json?: boolean; quiet?: boolean },
) => Promise<RunOutcome>;

const GLOB = /[*?[]/;

/**
 * The files named on the command line, with quoted globs (`experiments/*.yaml`, as CI files write them)
 * expanded in name order. A glob's wildcards apply to the file name, not to folders.
 * @throws ChaosError("invalid") when nothing is named, or a glob matches no file.
 */
export async function expandFiles(patterns: readonly string[]): Promise<string[]> {
  if (!patterns.length)
    throw new ChaosError("invalid", "chaos run needs an experiment file", { hint: "see chaos run --help" });
  const files: string[] = [];
  for (const p of patterns) {
    if (!GLOB.test(basename(p))) {
      files.push(p);
      continue;
    }
    if (GLOB.test(dirname(p)))
      throw new ChaosError("invalid", `${p}: wildcards are allowed in the file name only`, {
        hint: "let the shell expand it, or name the folder",
      });
    const re = new RegExp(
      `^${basename(p)
        .replace(/[.+^${}()|\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]")}$`,
    );
    const dir = dirname(p);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => re.test(n)).sort();
    if (!names.length)
      throw new ChaosError("invalid", `no file matches ${p}`, { hint: "check the pattern and the folder" });
    files.push(...names.map((n) => (dir === "." && !p.startsWith("./") ? n : join(dir, n))));
  }
  return files;
}

/**
 * Runs experiment files in order. One file: its own journal and reports (in `--out` when given). Several: each in its own folder
 * under the suite folder, then one combined junit.xml and summary.md there; the exit code is the worst
 * verdict, and a run stopped by a signal stops the suite. In GitHub Actions, each deviation becomes an
 * `::error` annotation at the experiment's line and the Markdown summary is appended to the step summary.
 */
export async function runFiles(
  patterns: readonly string[],
  args: SuiteArgs,
  runOne: RunOne,
): Promise<number> {
  const files = await expandFiles(patterns);
  if (files.length === 1) {
    // One file with --out: the run's journal, log and reports go straight into that folder (a CI job's
    // artifacts), unless --journal names the journal itself.
    const journal = args.journal ?? (args.out ? join(args.out, "journal.json") : undefined);
    const one = await runOne(files[0]!, journal, {});
    if (one.journal) await publish([one], renderMarkdown(one.journal), args.json);
    return one.code;
  }
  const suite =
    args.out ?? join(".chaos", "suites", new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, ""));
  if (args.json) linesToStderr();
  const done: RunOutcome[] = [];
  for (const [i, file] of files.entries()) {
    const folder = join(suite, `${i + 1}-${basename(file).replace(/\.ya?ml$/, "")}`);
    const one = await runOne(
      file,
      join(folder, "journal.json"),
      args.json ? { json: false, quiet: true } : {},
    );
    done.push(one);
    if (one.journal?.aborted?.reason.startsWith("received SIG")) break; // Ctrl-C stops the suite
  }
  const journals = done.flatMap((d) => (d.journal ? [d.journal] : []));
  if (!journals.length) return Math.max(0, ...done.map((d) => d.code)); // dry runs: nothing to report
  const markdown = renderSuiteMarkdown(journals);
  await makeDir(suite);
  await writeFile(join(suite, "junit.xml"), renderJUnit(journals));
  await writeFile(join(suite, "summary.md"), markdown);
  await publish(done, markdown, args.json);
  const code = Math.max(worstExit(journals), ...done.map((d) => d.code));
  if (args.json) process.stdout.write(`${JSON.stringify(journals, null, 2)}\n`);
  else printSuite(journals, files.length, suite, code, args.quiet);
  return code;
}

function printSuite(
  journals: Journal[],
  planned: number,
  suite: string,
  code: number,
  quiet?: boolean,
): void {
  if (!quiet) say("");
  say(
    `suite: ${journals.length} of ${planned} experiments run · exit ${code} · suite resilience score ${scoreText(suiteScore(journals))}`,
  );
  if (quiet) return;
  for (const l of columns([
    ["experiment", "verdict", "score"],
    ...journals.map((j) => [j.experiment.file, STATUS_LABEL[j.status], scoreText(figuresOf(j).score)]),
  ]))
    say(`  ${l}`);
  say(`  junit: ${join(suite, "junit.xml")}`);
  say(`  summary: ${join(suite, "summary.md")}`);
}

/** Annotations go to stdout, where the runner reads workflow commands — to stderr when stdout is JSON. */
async function publish(runs: RunOutcome[], markdown: string, json?: boolean): Promise<void> {
  if (!inGitHubActions()) return;
  const out = json ? process.stderr : process.stdout;
  for (const r of runs) {
    if (!r.journal) continue;
    for (const line of await annotations(r.journal, r.experiment)) out.write(`${line}\n`);
  }
  await appendStepSummary(markdown);
}

import { appendFile, readFile } from "node:fs/promises";
import type { Journal, ProbeRecord } from "../experiments/journal.js";
import type { Experiment } from "../experiments/model.js";
import { type Path, SourceFile } from "../experiments/source.js";

/** True in a GitHub Actions job: annotations and the step summary are written. */
export function inGitHubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === "true";
}

/** Workflow-command escaping: `%`, CR and LF in the message; also `:` and `,` in a property. */
const message = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const property = (s: string) => message(s).replace(/:/g, "%3A").replace(/,/g, "%2C");

interface Deviation {
  title: string;
  text: string;
  path?: Path;
}

/** What went wrong in a run, each pointing (when it can) at the part of the experiment it came from. */
function deviations(j: Journal, e: Experiment): Deviation[] {
  const out: Deviation[] = [];
  const probePath = (name: string) => e.steadyState?.probes.find((p) => p.name === name)?.path;
  const failed = (records: ProbeRecord[], phase: string) => {
    const byProbe = new Map<string, ProbeRecord[]>();
    for (const r of records.filter((x) => !x.ok)) byProbe.set(r.probe, [...(byProbe.get(r.probe) ?? []), r]);
    for (const [probe, rs] of byProbe) {
      const all = records.filter((r) => r.probe === probe).length;
      out.push({
        title: `${probe} (${phase})`,
        text: `${rs.length} of ${all} checks failed: ${rs[0]!.reason}`,
        path: probePath(probe),
      });
    }
  };
  if (j.status === "held" || j.status === "completed") return out;
  failed(j.steadyState.before, "before");
  failed(j.steadyState.during, "during");
  // The after phase retries until it recovers: only a probe whose last check failed did not recover.
  const after = j.steadyState.after;
  const lastAfter = new Map(after.map((r) => [r.probe, r]));
  failed(
    after.filter((r) => lastAfter.get(r.probe)?.ok === false),
    "after",
  );
  for (const r of j.stopConditions.filter((x) => x.outcome === "fail").slice(0, 1)) {
    out.push({
      title: `stop condition ${r.probe}`,
      text: r.reason,
      path: e.stopWhen.find((s) => s.name === r.probe)?.path,
    });
  }
  for (const a of j.method.filter((x) => x.status === "failed" || x.status === "timed-out")) {
    out.push({
      title: `step ${a.name}`,
      text: a.error ?? a.status,
      path: e.method.find((s) => s.name === a.name)?.path,
    });
  }
  if (!out.length) out.push({ title: `verdict ${j.status}`, text: j.reasons.join("; ") || j.status });
  return out;
}

/**
 * The `::error` annotations of a run that did not hold, one per deviation, at the experiment file's line of
 * the probe, stop condition or step it came from (line 1 when it has none).
 */
export async function annotations(j: Journal, e: Experiment): Promise<string[]> {
  let source: SourceFile | undefined;
  try {
    source = new SourceFile(e.file, await readFile(e.file, "utf8"));
  } catch {
    source = undefined; // the file went away: annotate the file without a line
  }
  return deviations(j, e).map((d) => {
    const line = d.path && source ? source.locate(d.path, { key: true }).line : 1;
    const title = `${j.experiment.title}: ${d.title}`;
    return `::error file=${property(e.file)},line=${line},title=${property(title)}::${message(d.text)}`;
  });
}

/** Appends Markdown to the job's step summary, when the job has one. */
export async function appendStepSummary(
  markdown: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
}

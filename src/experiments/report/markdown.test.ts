import { describe, expect, test } from "vitest";
import {
  abortedJournal,
  blindStopJournal,
  deviatedJournal,
  errorJournal,
  heldJournal,
  notSteadyJournal,
  unobservedJournal,
} from "./journals.fixture.js";
import { renderMarkdown } from "./markdown.js";
import { renderSuiteMarkdown } from "./suite.js";

/** The cells of every table row whose first cell is `first`; escaped pipes stay inside their cell. */
function rows(md: string, first: string): string[][] {
  return md
    .split("\n")
    .filter((l) => l.startsWith("| "))
    .map((l) =>
      l
        .slice(2, -2)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    )
    .filter((cells) => cells[0] === first);
}

describe("the Markdown report", () => {
  test("a run whose fault was never checked says NOT OBSERVED and why, with exit code 1", () => {
    const md = renderMarkdown(unobservedJournal());
    expect(md).toMatch(
      /^\*\*Verdict: NOT OBSERVED \(nothing checked while a fault was live\)\*\* · exit code 1/m,
    );
    expect(md).toContain('no hypothesis check was taken while "inject latency" was live');
  });

  test("a stop condition that could not see counts as triggered", () => {
    const md = renderMarkdown(blindStopJournal());
    expect(md).toMatch(/Triggered 1 time \(2 checks\)/);
    // The probe summary at the top has a row too; the stop condition's own table says why.
    expect(rows(md, "error budget").join("\n")).toContain(
      "stopped: could not see: Prometheus at http://127.0.0.1:9090 failing: HTTP 500 (after 1 attempt)",
    );
  });

  test("a held run shows its verdict, exit code and a before and an after row per probe", () => {
    const md = renderMarkdown(heldJournal());
    expect(md).toMatch(/^# Chaos experiment: payments survive 500ms latency$/m);
    expect(md).toMatch(/^\*\*Verdict: HELD\*\* · exit code 0 · 40s/m);
    const phases = rows(md, "error rate").filter((r) => r[1] === "before" || r[1] === "after");
    expect(phases.map((r) => r.slice(1, 4))).toEqual([
      ["before", "PASS", "0.01"],
      ["after", "PASS", "0.012"],
    ]);
    expect(rows(md, "checkout answers")).toHaveLength(1 + 2 + 1); // summary, before, after, during
    expect(rows(md, "checkout answers")[0]).toEqual([
      "checkout answers",
      "hypothesis",
      "1 ok",
      expect.stringMatching(/^\d+ ok$/),
      "1 ok",
      "200",
      "200",
    ]);
    expect(md).toContain("hypothesis: ");
    expect(md).toContain("resilience score 100%");
    expect(md).toMatch(/None triggered \(3 checks\)/);
  });

  test("a deviated run summarises the during series with its failures and extent", () => {
    const md = renderMarkdown(deviatedJournal());
    const during = rows(md, "error rate").find((r) => r[1] === "10");
    expect(during?.slice(0, 5)).toEqual(["error rate", "10", "6", "0.01", "0.31"]);
    const after = rows(md, "error rate").find((r) => r[1] === "after");
    expect(after?.[2]).toBe("PASS after 2 checks");
    expect(md).toMatch(/Verdict: DEVIATED\*\* · exit code 1/);
  });

  test("hostile text cannot break a table row, inject HTML or smuggle control characters", () => {
    const md = renderMarkdown(deviatedJournal());
    expect(md).not.toContain("<script>");
    expect(md).not.toMatch(/[\x00-\x08]/);
    const faultRows = md.split("\n").filter((l) => l.startsWith("| latency 500ms"));
    expect(faultRows).toHaveLength(2); // the fault and its rollback, each on one line
    for (const row of faultRows) {
      expect(row).toContain("a\\|b");
      expect(row).toContain("<br>second line");
      expect(row.split(/(?<!\\)\|/)).toHaveLength(7); // 5 cells between 6 pipes
    }
    expect(md).toMatch(/^# Chaos experiment: errors &lt;script&gt;/m);
  });

  test("an aborted run names the stop condition that fired and the activities it cut short", () => {
    const md = renderMarkdown(abortedJournal());
    expect(md).toMatch(/\*\*Aborted\*\* at 2025-01-15 10:00:12Z: stop condition "p99 latency too high" met/);
    expect(md).toMatch(/Triggered 1 time \(2 checks\)/);
    expect(rows(md, "p99 latency too high").at(-1)?.slice(1, 3)).toEqual(["2025-01-15 10:00:12Z", "2.7"]);
    expect(rows(md, "pause 30s")[0]?.[2]).toBe("aborted");
    expect(rows(md, "inject loss")[0]?.[2]).toBe("skipped");
  });

  test("an error run shows the failed action, the failed rollback and the fault left behind", () => {
    const md = renderMarkdown(errorJournal());
    expect(md).toMatch(/Verdict: ERROR \(the run could not judge\)\*\* · exit code 4/);
    expect(rows(md, "inject latency")[0]?.slice(2)).toEqual([
      "failed",
      "1s",
      "connect ECONNREFUSED 127.0.0.1:8474",
    ]);
    expect(rows(md, "latency 500ms on payments").map((r) => r[3])).toEqual(["NOT REVERTED", "500ms"]);
    expect(rows(md, "latency 500ms on payments")[1]?.slice(1, 3)).toEqual(["automatic", "failed"]);
    expect(md).toMatch(/No check was taken during the method/);
  });

  test("a run that was not steady before shows the failing probe and no after row", () => {
    const md = renderMarkdown(notSteadyJournal());
    const phaseRows = rows(md, "error rate").filter((r) => r[1] !== "hypothesis");
    expect(phaseRows.map((r) => r.slice(1, 4))).toEqual([["before", "FAIL", "0.4"]]);
    expect(md).toMatch(/NOT STEADY \(nothing injected\)\*\* · exit code 1/);
  });

  test("a run that judged nothing shows no score, and the suite counts only the runs that judged", () => {
    for (const j of [errorJournal(), abortedJournal(), unobservedJournal()]) {
      expect(renderMarkdown(j)).toMatch(/resilience score —/);
      expect(renderMarkdown(j)).not.toMatch(/resilience score \d/);
    }
    const suite = renderSuiteMarkdown([heldJournal(), errorJournal()]);
    expect(suite).toContain("suite resilience score 100%");
    expect(rows(suite, heldJournal().experiment.title).map((r) => r[7])).toEqual(["100%", "—"]);
  });
});

import { describe, expect, it } from "vitest";
import type { GameDayRecord } from "../record.js";
import { renderGameDayHtml, renderGameDayMarkdown } from "./index.js";

const HOSTILE = `<script>alert("x")</script> | & ' "`;

function record(): GameDayRecord {
  return {
    tool: { name: "chaoskit", version: "0.1.0" },
    id: "20260101-000000-abcdef",
    runbook: {
      file: "payments.yaml",
      title: `Payments ${HOSTILE}`,
      goal: "learn",
      roles: { facilitator: "alice", observers: ["bob"] },
    },
    mode: "answers",
    start: "2026-01-01T00:00:00.000Z",
    end: "2026-01-01T00:01:00.000Z",
    durationMs: 60_000,
    status: "completed",
    exitCode: 1,
    reasons: ['surprise at "down": predicted deviated, the experiment held'],
    timeline: [
      {
        step: "hello",
        kind: "manual",
        text: "say hello",
        start: "2026-01-01T00:00:00.000Z",
        end: "2026-01-01T00:00:01.000Z",
        status: "done",
        by: "alice",
      },
      {
        step: "down",
        kind: "experiment",
        text: "gateway down (down.yaml, expect deviated)",
        start: "2026-01-01T00:00:01.000Z",
        end: "2026-01-01T00:00:30.000Z",
        status: "done",
        experiment: {
          file: "down.yaml",
          title: "gateway down",
          runId: "r1",
          expect: "deviated",
          outcome: "held",
          matched: false,
          exitCode: 0,
          reasons: [],
          journal: "2-down/journal.json",
          reports: [
            { format: "html", path: "2-down/report.html" },
            { format: "markdown", path: "javascript:alert(1)" },
          ],
        },
      },
      {
        step: "seen",
        kind: "observe",
        text: "what did you see?",
        start: "2026-01-01T00:00:30.000Z",
        end: "2026-01-01T00:00:40.000Z",
        status: "done",
        by: "bob",
        answer: HOSTILE,
      },
    ],
    findings: [
      { kind: "surprise", step: "down", text: "predicted deviated, the experiment held" },
      { kind: "observation", step: "seen", text: HOSTILE },
    ],
  };
}

describe("the GameDay record as HTML", () => {
  const html = renderGameDayHtml(record());

  it("escapes every recorded text and runs no script", () => {
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; | &amp; &#39; &quot;");
  });

  it("fetches nothing: inline CSS only, and a policy that forbids the rest", () => {
    expect(html).not.toMatch(/<(link|img|iframe|script)\b/);
    expect(html).not.toMatch(/src=/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it("links the experiment's own journal and reports instead of copying them, never to a script URL", () => {
    expect(html).toContain('<a href="2-down/journal.json">journal</a>');
    expect(html).toContain('<a href="2-down/report.html">html</a>');
    expect(html).toContain('<a href="./javascript:alert(1)">markdown</a>');
    expect(html).not.toContain('href="javascript:');
  });

  it("lists the surprise and the observation as findings, and leaves the action items empty", () => {
    const findings = html.slice(html.indexOf("<h2>Findings</h2>"), html.indexOf("<h2>Action items</h2>"));
    expect(findings).toContain("predicted deviated, the experiment held");
    expect(findings).toContain("&lt;script&gt;");
    const actions = html.slice(html.indexOf("<h2>Action items</h2>"));
    expect(actions).not.toContain("<li>");
  });
});

describe("the GameDay record as Markdown", () => {
  const md = renderGameDayMarkdown(record());

  it("keeps table rows whole and tags inert", () => {
    const row = md.split("\n").find((l) => l.startsWith("| 00:00:30"));
    expect(row).toContain('answered: &lt;script&gt;alert("x")&lt;/script&gt; \\| &amp;');
    expect(md).not.toContain("<script");
    expect(md).toContain("[markdown](./javascript:alert(1))");
  });

  it("shows prediction against outcome and links the reports", () => {
    expect(md).toContain(
      "| down | gateway down (down.yaml) | deviated | held — SURPRISE | [journal](2-down/journal.json) · [html](2-down/report.html)",
    );
  });

  it("has the timeline, the findings and an empty action items section, in that order", () => {
    const order = [
      "## Timeline",
      "## Experiments",
      "## Findings",
      "### Surprises",
      "### Observations",
      "## Action items",
    ].map((h) => md.indexOf(h));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(
      md
        .slice(md.indexOf("## Action items"))
        .split("\n")
        .filter((l) => l.startsWith("- ")),
    ).toEqual([]);
  });
});

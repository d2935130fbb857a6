import { describe, expect, test } from "vitest";
import { renderHtml } from "./html.js";
import {
  abortedJournal,
  deviatedJournal,
  errorJournal,
  heldJournal,
  notSteadyJournal,
  outageJournal,
} from "./journals.fixture.js";
import { all, parseXml, type XmlElement } from "./xml-reader.fixture.js";

function charts(html: string): XmlElement[] {
  return [...html.matchAll(/<svg xmlns[\s\S]*?<\/svg>/g)].map((m) => parseXml(m[0]));
}

function descendants(el: XmlElement): XmlElement[] {
  return el.children.flatMap((c) => [c, ...descendants(c)]);
}
const withClass = (svg: XmlElement, cls: string) => descendants(svg).filter((e) => e.attrs.class === cls);

describe("the HTML report", () => {
  test("draws one well-formed SVG chart per steady-state probe and stop condition", () => {
    expect(charts(renderHtml(heldJournal()))).toHaveLength(3); // error rate, checkout answers, p99 stop condition
    expect(charts(renderHtml(deviatedJournal()))).toHaveLength(2);
    expect(charts(renderHtml(abortedJournal()))).toHaveLength(2);
    expect(charts(renderHtml(notSteadyJournal()))).toHaveLength(1);
  });

  test("shades each fault window from applied to reverted, on the run's time axis", () => {
    const [errorRate] = charts(renderHtml(deviatedJournal()));
    const faults = withClass(errorRate as XmlElement, "fault");
    expect(faults).toHaveLength(2);
    // 40s run drawn over x = 64..864: 4.1s → 146, 20.9s wide → 418
    expect(Number(faults[0]?.attrs.x)).toBeCloseTo(146, 0);
    expect(Number(faults[0]?.attrs.width)).toBeCloseTo(418, 0);
    const labels = all(errorRate as XmlElement, "text").map((t) => t.text);
    // Fault windows are named by what they do: the action and the step that injected them.
    expect(labels).toContainEqual(expect.stringMatching(/^\S+: cut db$/));
    expect(labels).toContainEqual(expect.stringMatching(/^\S+: inject latency$/));
  });

  test("a fault that was never reverted is hatched to the end of the run and says so", () => {
    const [chart] = charts(renderHtml(errorJournal()));
    const [fault] = withClass(chart as XmlElement, "fault");
    expect(fault?.attrs.fill).toMatch(/^url\(#probe0-hatch\)$/);
    expect(Number(fault?.attrs.x) + Number(fault?.attrs.width)).toBeCloseTo(864, 0);
    expect(all(chart as XmlElement, "text").map((t) => t.text)).toContainEqual(
      expect.stringMatching(/: inject latency \(not reverted\)$/),
    );
  });

  test("colours points by ok and fail and draws NaN, empty, error and non-numeric samples apart", () => {
    const [errorRate, checkout] = charts(renderHtml(deviatedJournal())) as [XmlElement, XmlElement];
    // before 0.01, during 0.01 0.02 0.04 "0.02", after 0.01 → ok; during 0.09 0.31 → fail; after 0.2 failed
    // before the system recovered in time (the last after check passed) → recovering
    expect(withClass(errorRate, "pt-ok")).toHaveLength(6);
    expect(withClass(errorRate, "pt-fail")).toHaveLength(2);
    expect(withClass(errorRate, "pt-recovering")).toHaveLength(1);
    expect(withClass(errorRate, "pt-nan")).toHaveLength(1);
    expect(withClass(errorRate, "pt-empty")).toHaveLength(1);
    expect(withClass(errorRate, "pt-error")).toHaveLength(1);
    expect(withClass(errorRate, "pt-other")).toHaveLength(1); // "Infinity"
    expect(withClass(errorRate, "tolerance")).toHaveLength(1);
    // 200, 503, true (as 1), 200 on the chart; the HTML string in the no-value lane
    expect(withClass(checkout, "pt-ok").length + withClass(checkout, "pt-fail").length).toBe(4);
    expect(withClass(checkout, "pt-other")).toHaveLength(1);
    const tips = descendants(checkout)
      .filter((e) => e.name === "title")
      .map((t) => t.text);
    expect(tips.some((t) => t.includes("value: <b>teapot</b>"))).toBe(true);
  });

  test("is self-contained and escapes every piece of journal text", () => {
    const html = renderHtml(deviatedJournal());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link|\ssrc=|href="http|url\((?!#)/i);
    expect(html).toContain(
      "<h1>Chaos experiment: errors &lt;script&gt;alert(1)&lt;/script&gt; | &amp; ]]&gt;</h1>",
    );
    expect(html).not.toMatch(/[\x00-\x08]/);
    expect(html).toMatch(/<span class="badge"[^>]*>DEVIATED<\/span> exit code 1/);
  });

  test("marks where the run was aborted and where the after phase began", () => {
    const [chart] = charts(renderHtml(abortedJournal()));
    const texts = all(chart as XmlElement, "text").map((t) => t.text);
    expect(texts).toEqual(expect.arrayContaining(["method", "aborted", "after"]));
  });

  test("an outage's timeouts are failures at their time, above the latency plot, and no line spans them", () => {
    const [status, latency] = charts(renderHtml(outageJournal())) as [XmlElement, XmlElement];
    const plotTop = (svg: XmlElement) =>
      Math.min(
        ...all(svg, "rect")
          .filter((r) => r.attrs.fill === "none")
          .map((r) => Number(r.attrs.y)),
      );
    for (const svg of [status, latency]) {
      const missing = withClass(svg, "pt-error");
      expect(missing).toHaveLength(5);
      // drawn above the plot: the worst outcome, at the time each check was taken
      for (const m of missing)
        expect(Math.max(...(m.attrs.d?.match(/[\d.]+(?=L|M|$)/g) ?? []).map(Number))).toBeLessThan(
          plotTop(svg),
        );
      expect(all(svg, "text").map((t) => t.text)).toEqual(
        expect.arrayContaining(["no answer", "timed out after 1s"]),
      );
    }
    // the latency line never joins the 10ms before to the 594ms during, nor 594ms to the 12ms after the timeouts
    for (const line of all(latency, "polyline")) expect(line.attrs.points?.split(" ").length).toBeLessThan(2);
    expect(withClass(latency, "pt-fail")).toHaveLength(1); // the slow answer
    // the status chart shows the one code seen on its own row, not a 180–220 scale
    const ticks = all(status, "text")
      .map((t) => t.text)
      .filter((t) => /^\d+$/.test(t));
    expect(ticks).toEqual(["200"]);
    // the time axis covers the checks before and after the fault, not only the fault
    const [fault] = withClass(latency, "fault");
    const xs = [...withClass(latency, "pt-ok"), ...withClass(latency, "pt-fail")].map((c) =>
      Number(c.attrs.cx),
    );
    expect(Math.min(...xs)).toBeLessThan(Number(fault?.attrs.x));
    expect(Math.max(...xs)).toBeGreaterThan(Number(fault?.attrs.x) + Number(fault?.attrs.width));
  });

  test("a stretch without checks breaks the series line instead of drawing across it", () => {
    const j = heldJournal();
    // drop the checks between +9s and +21s: the line must not run across the hole
    j.steadyState.during = j.steadyState.during.filter((r) => {
      const s = (Date.parse(r.start) - Date.parse(j.start)) / 1000;
      return s < 9 || s > 21;
    });
    const [errorRate] = charts(renderHtml(j)) as [XmlElement];
    const xs = all(errorRate, "polyline").map((l) =>
      (l.attrs.points ?? "").split(" ").map((p) => Number(p.split(",")[0])),
    );
    // no segment has two neighbouring points more than 3 checks (6s of 40s on 800px = 120px) apart
    for (const seg of xs)
      for (let i = 1; i < seg.length; i++) expect(seg[i]! - seg[i - 1]!).toBeLessThan(120);
    expect(xs).toHaveLength(2); // during up to +9s, during from +21s (before and after are single checks)
  });

  test("says the unit a probe declares on its chart's axis and beside its values", () => {
    const j = heldJournal();
    for (const r of [...j.steadyState.before, ...j.steadyState.during, ...j.steadyState.after])
      if (r.probe === "error rate") r.unit = "%";
    for (const r of j.stopConditions) r.unit = "s";
    const html = renderHtml(j);
    const titles = charts(html).map((svg) => withClass(svg, "y-title").map((t) => t.text)[0]);
    expect(titles).toContain("value (%)");
    expect(titles).toContain("value (s)");
    expect(html).toContain("(0.012%)");
    expect(html).toContain("value 0.4 s");
  });
});

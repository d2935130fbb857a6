import { describe, expect, test } from "vitest";
import {
  abortedJournal,
  completedJournal,
  deviatedJournal,
  errorJournal,
  HOSTILE,
  heldJournal,
  notSteadyJournal,
  unobservedJournal,
} from "./journals.fixture.js";
import { renderJUnit } from "./junit.js";
import { all, parseXml, type XmlElement } from "./xml-reader.fixture.js";

function suiteOf(xml: string) {
  const root = parseXml(xml);
  expect(root.name).toBe("testsuites");
  const suites = all(root, "testsuite");
  expect(suites).toHaveLength(1);
  const suite = suites[0] as XmlElement;
  const cases = all(suite, "testcase");
  const byName = (classname: string, name: string) =>
    cases.find((c) => c.attrs.classname === classname && c.attrs.name === name);
  return { root, suite, cases, byName };
}

describe("the JUnit report", () => {
  test("the verdict case fails exactly when the exit code does: completed passes, not observed fails", () => {
    const completed = suiteOf(renderJUnit(completedJournal()));
    expect(all(completed.suite, "failure")).toHaveLength(0);
    expect(all(completed.suite, "error")).toHaveLength(0);
    const unobserved = suiteOf(renderJUnit(unobservedJournal())).byName("run", "verdict");
    expect(all(unobserved!, "failure")[0]?.attrs).toMatchObject({ type: "unobserved" });
  });

  test("the little XML reader rejects what a real parser would", () => {
    expect(() => parseXml("<a><b></a></b>")).toThrow();
    expect(() => parseXml('<a x="1 < 2"/>')).toThrow();
    expect(() => parseXml("<a>]]> & more</a>")).toThrow();
    expect(() => parseXml("<a>\u0001</a>")).toThrow();
    expect(parseXml('<a x="&lt;&#10;"><b/>t &amp; u</a>')).toMatchObject({
      attrs: { x: "<\n" },
      text: "t & u",
    });
  });

  test("a held run is one suite whose test cases all pass", () => {
    const { root, suite, cases, byName } = suiteOf(renderJUnit(heldJournal()));
    // 2 probes × before/during/after, 2 activities, the verdict
    expect(cases).toHaveLength(9);
    expect(suite.attrs).toMatchObject({
      name: "payments survive 500ms latency",
      tests: "9",
      failures: "0",
      errors: "0",
    });
    expect(root.attrs).toMatchObject({ tests: "9", failures: "0", errors: "0" });
    expect(all(suite, "failure")).toHaveLength(0);
    expect(byName("steady-state.before", "error rate")).toBeDefined();
    expect(byName("steady-state.after", "checkout answers")).toBeDefined();
    // a testcase's time is the span of its checks, first start to last end
    expect(byName("steady-state.during", "error rate")?.attrs.time).toBe("22.050");
    expect(byName("method.pause", "pause 25s")?.attrs.time).toBe("25.000");
  });

  test("a deviated run fails each probe's during hypothesis with its failed checks, and the verdict", () => {
    const xml = renderJUnit(deviatedJournal());
    const { suite, byName } = suiteOf(xml);
    expect(suite.attrs).toMatchObject({ failures: "3", errors: "0" });
    const during = byName("steady-state.during", "error rate");
    const failure = during?.children.find((c) => c.name === "failure");
    // counted as the verdict counts them (evidence.ts): per probe, one check per sample
    expect(failure?.attrs.message).toMatch(/^6 of 10 checks failed: /);
    expect(failure?.text.split("\n").filter((l) => /^\d{4}-/.test(l))).toHaveLength(6);
    // hostile text comes back intact once parsed, except the characters XML cannot hold
    expect(failure?.text).toContain(HOSTILE.replace(/[\u0001\u0008]/g, "\uFFFD"));
    expect(suite.attrs.name).toBe("errors <script>alert(1)</script> | & ]]>");
    expect(byName("run", "verdict")?.children[0]?.attrs.message).toContain("second line");
    expect(xml).not.toContain("<script>");
  });

  test("an aborted run yields an error; what it cut short ran, and only what never started is skipped", () => {
    const { suite, byName } = suiteOf(renderJUnit(abortedJournal()));
    expect(suite.attrs).toMatchObject({ failures: "0", errors: "1", skipped: "1" });
    const error = byName("run", "verdict")?.children.find((c) => c.name === "error");
    expect(error?.attrs).toMatchObject({
      type: "aborted",
      message: expect.stringMatching(/^ABORTED: stop condition/),
    });
    const cut = byName("method.pause", "pause 30s");
    expect(cut?.attrs.time).toBe("7.800");
    expect(cut?.children.map((c) => c.name)).toEqual(["system-out"]);
    expect(cut?.children[0]?.text).toContain("then the run was aborted");
    expect(byName("method.action", "inject loss")?.children[0]?.name).toBe("skipped");
  });

  test("an error run fails the action that failed and errors the verdict", () => {
    const { suite, byName } = suiteOf(renderJUnit(errorJournal()));
    expect(suite.attrs).toMatchObject({ failures: "1", errors: "1" });
    const failure = byName("method.action", "inject latency")?.children[0];
    expect(failure?.attrs).toMatchObject({ type: "failed", message: "connect ECONNREFUSED 127.0.0.1:8474" });
    const during = byName("steady-state.during", "hypothesis during method");
    expect(during?.children[0]?.name).toBe("skipped");
  });

  test("a run that was not steady before fails the before probe with its reason", () => {
    const { suite, cases, byName } = suiteOf(renderJUnit(notSteadyJournal()));
    expect(cases.map((c) => `${c.attrs.classname}/${c.attrs.name}`)).toEqual([
      "steady-state.before/error rate",
      "steady-state.during/hypothesis during method",
      "method.action/inject latency",
      "run/verdict",
    ]);
    expect(suite.attrs).toMatchObject({ failures: "2", errors: "0", skipped: "2" });
    expect(byName("steady-state.before", "error rate")?.children[0]?.attrs).toMatchObject({
      type: "fail",
      message: "0.4 is outside tolerance",
    });
  });

  test("a run that judged nothing has no score: its run.score property is —", () => {
    const score = (xml: string) =>
      all(suiteOf(xml).suite, "property").find((p) => p.attrs.name === "run.score")?.attrs.value;
    for (const j of [errorJournal(), abortedJournal(), unobservedJournal()])
      expect(score(renderJUnit(j))).toBe("—");
    expect(score(renderJUnit(heldJournal()))).toBe("100");
  });
});

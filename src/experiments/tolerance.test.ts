import { describe, expect, test } from "vitest";
import { parseTolerance, ToleranceError } from "./tolerance.js";

const judge = (spec: unknown, value: unknown, fields?: Record<string, unknown>) =>
  parseTolerance(spec).judge({ value, fields });

describe("tolerances", () => {
  test("comparison strings compare numbers", () => {
    expect(judge("< 0.3", 0.2).ok).toBe(true);
    expect(judge("< 0.3", 0.3).ok).toBe(false);
    expect(judge(">= 1", 1).ok).toBe(true);
    expect(judge("== 0", 0).ok).toBe(true);
    expect(judge("!= 500", 500).ok).toBe(false);
    expect(judge("> 2", "3").ok).toBe(true);
  });

  test("a bound that is not a finite decimal number is refused, not compared with", () => {
    for (const text of [
      "< Infinity",
      "< -Infinity",
      "< 1e999",
      "< 0x10",
      "> 0b1",
      "< 0o7",
      "!= NaN",
      "< inf",
    ])
      expect(() => parseTolerance(text), text).toThrow(/is not a finite decimal number/);
    for (const range of [
      [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
      [0, Number.POSITIVE_INFINITY],
      [Number.NaN, 1],
    ])
      expect(() => parseTolerance(range)).toThrow(/two finite numbers/);
    expect(judge("< 1e6", 999_999).ok).toBe(true);
    expect(judge("> -0.5", 0).ok).toBe(true);
    expect(judge("< .5", 0.4).ok).toBe(true);
  });

  test("a status is an HTTP code from 100 to 599", () => {
    for (const status of [999, 99, 600, 200.5, [200, 1000]])
      expect(() => parseTolerance({ status }), JSON.stringify(status)).toThrow(/bad status/);
    expect(judge({ status: [100, 599] }, null, { status: 599 }).ok).toBe(true);
  });

  test("a failed comparison says what was seen and what was expected", () => {
    expect(judge("< 0.3", 0.5).reason).toBe("0.5 is not < 0.3");
  });

  test("ranges are inclusive and reject values outside them", () => {
    expect(judge([0, 0.01], 0.01).ok).toBe(true);
    expect(judge([0, 0.01], 0.02)).toMatchObject({ ok: false, outcome: "fail" });
  });

  test("exact values match numbers, booleans and strings", () => {
    expect(judge(200, 200).ok).toBe(true);
    expect(judge(true, false).ok).toBe(false);
    expect(judge("ok", "ok").ok).toBe(true);
    expect(judge("ok", "nok").ok).toBe(false);
  });

  test("an empty result is its own outcome and never a pass by default", () => {
    expect(judge("< 1", null)).toMatchObject({ outcome: "empty", ok: false });
    expect(judge({ value: "< 1", empty: "pass" }, null)).toMatchObject({ outcome: "empty", ok: true });
  });

  test("a mapping with only empty or nan has no criterion and is refused, not a pass for every value", () => {
    for (const spec of [{ empty: "pass" }, { nan: "fail" }, { empty: "fail", nan: "pass" }]) {
      expect(() => parseTolerance(spec)).toThrow(ToleranceError);
      expect(() => parseTolerance(spec)).toThrow("needs a criterion besides empty and nan");
    }
    expect(judge({ value: "== 0", empty: "pass" }, 3).ok).toBe(false);
  });

  test("NaN is its own outcome and never a pass by default", () => {
    expect(judge("< 1", Number.NaN)).toMatchObject({ outcome: "nan", ok: false });
    expect(judge(">= 0", Number.NaN).ok).toBe(false);
    expect(judge({ value: "< 1", nan: "pass" }, Number.NaN).ok).toBe(true);
  });

  test("status sets accept codes, lists and classes", () => {
    expect(judge({ status: 200 }, 200, { status: 200 }).ok).toBe(true);
    expect(judge({ status: [200, 204] }, 204, { status: 204 }).ok).toBe(true);
    expect(judge({ status: "2xx" }, 201, { status: 201 }).ok).toBe(true);
    expect(judge({ status: "2xx" }, 503, { status: 503 })).toMatchObject({
      ok: false,
      reason: "status 503 is not 2xx",
    });
  });

  test("latency bounds take durations", () => {
    expect(judge({ latency: "< 300ms" }, 200, { latency: 120 }).ok).toBe(true);
    expect(judge({ latency: "< 1s" }, 200, { latency: 1500 }).ok).toBe(false);
  });

  test("regexes match strings", () => {
    expect(judge({ regex: "^ok" }, "ok then").ok).toBe(true);
    expect(judge({ regex: "^ok" }, "not ok").ok).toBe(false);
  });

  test("each needs every series within tolerance and any needs one", () => {
    const series = [
      { labels: { instance: "a" }, value: 0.1 },
      { labels: { instance: "b" }, value: 0.9 },
    ];
    const t = parseTolerance("< 0.5");
    expect(t.judge({ value: null, series, quantifier: "each" })).toMatchObject({
      ok: false,
      reason: '{instance="b"}: 0.9 is not < 0.5',
    });
    expect(t.judge({ value: null, series, quantifier: "any" }).ok).toBe(true);
    expect(t.judge({ value: null, series: [], quantifier: "each" }).outcome).toBe("empty");
  });

  test("a text that starts like a comparison but is not one is refused, never taken as an exact match", () => {
    for (const typo of ["=> 0", "<", "~ 3", "== ", "=< 5", "! 500", ">"]) {
      expect(() => parseTolerance(typo), typo).toThrow("starts like a comparison but is not one");
      expect(() => parseTolerance({ value: typo }), typo).toThrow(ToleranceError);
    }
    expect(() => parseTolerance("=> 0")).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('did you mean ">="?') }),
    );
  });

  test("an empty or blank tolerance is refused", () => {
    for (const blank of ["", "   "]) expect(() => parseTolerance(blank)).toThrow("empty tolerance");
  });

  test("an exact text that does not look like an operator still matches", () => {
    expect(judge("ok", "ok").ok).toBe(true);
    expect(judge({ value: "ready" }, "ready").ok).toBe(true);
    expect(judge("== ok", "ok").ok).toBe(true);
  });

  test("malformed tolerances are rejected with a hint", () => {
    expect(() => parseTolerance("< abc")).toThrow(ToleranceError);
    expect(() => parseTolerance({ regex: "(" })).toThrow(/bad regex/);
    expect(() => parseTolerance([5, 1])).toThrow(/empty/);
    expect(() => parseTolerance({ latency: "fast" })).toThrow(/latency/);
  });
});

test.describe("numbers in reasons", () => {
  test("rounds to 4 significant digits, with more only where rounding would meet the bound", () => {
    expect(judge("< 0.1", 0.176578).reason).toBe("0.1766 is not < 0.1");
    expect(judge(">= 0.1766", 0.176578).reason).toBe("0.17658 is not >= 0.1766");
    expect(judge("== 0.3", 0.30000001).reason).toBe("0.30000001 is not == 0.3");
    expect(judge("< 0.5", 0.176578).reason).toBe("0.1766 within tolerance");
    expect(judge("< 100", 1234).reason).toBe("1234 is not < 100");
  });
});

import { describe, expect, test } from "vitest";
import { checkCtkTolerance, ctkTolerance, withinTolerance } from "./tolerance.js";

// Ported case for case from chaostoolkit/chaostoolkit-lib tests/test_tolerance.py: `within_tolerance(t,
// value=v) is X` becomes `expect(within(t, v)).toBe(X)`, and `ensure_hypothesis_tolerance_is_valid` raising
// InvalidActivity becomes a problem from checkCtkTolerance with the same message.
const within = (t: unknown, value: unknown) => {
  expect(checkCtkTolerance(t)).toEqual([]);
  return withinTolerance(t, value);
};
const invalid = (t: unknown) =>
  checkCtkTolerance(t)
    .map((p) => p.message)
    .join("; ");
const text = (body: string) => ({ status: 200, headers: { "Content-Type": "text/plain" }, body });

describe("Chaos Toolkit tolerances (tests/test_tolerance.py)", () => {
  test("an integer equals the value, or the status of a process or HTTP output", () => {
    expect(within(6, 6)).toBe(true); // test_tolerance_int
    expect(within(6, 7)).toBe(false); // test_tolerance_int_returns_false_when_different
    expect(within(6, { status: 6 })).toBe(true); // test_tolerance_int_from_process_status
    expect(within(6, { status: 7 })).toBe(false); // ..._returns_false_when_different
    expect(within(6, { status: 6 })).toBe(true); // test_tolerance_int_from_http_status
    expect(within(6, { status: 7 })).toBe(false); // ..._returns_false_when_different
  });

  test("a list of integers holds the status of a process or HTTP output", () => {
    expect(within([5, 6], { status: 6 })).toBe(true); // test_tolerance_list_int_from_process_status
    expect(within([5, 7], { status: 6 })).toBe(false); // ..._returns_false_when_different
    expect(within([5, 6], { status: 6 })).toBe(true); // test_tolerance_list_int_from_http_status
    expect(within([5, 7], { status: 6 })).toBe(false); // ..._returns_false_when_different
  });

  test("booleans and strings must be equal", () => {
    expect(within(true, true)).toBe(true); // test_tolerance_bool
    expect(within(true, false)).toBe(false); // test_tolerance_bool_returns_false_when_different
    expect(within("hello", "hello")).toBe(true); // test_tolerance_string
    expect(within("hello", "not hello")).toBe(false); // test_tolerance_string_returns_false_when_different
  });

  test("a regex searches the value", () => {
    const t = { type: "regex", pattern: "[0-9]{2}" };
    expect(within(t, "you are number 87")).toBe(true); // test_tolerance_regex (first)
    expect(within(t, "you are number 8")).toBe(false); // test_tolerance_regex (second)
  });

  test("a JSON path finds items in a mapping, and must find some", () => {
    const foo = { foo: [{ baz: 1 }, { baz: 2 }] };
    expect(within({ type: "jsonpath", path: "$.foo.*[?(@.baz)]" }, foo)).toBe(true); // ..._from_dict
    // test_tolerance_jsonpath_must_find_items_to_succeed
    expect(within({ type: "jsonpath", path: "$.notsofoo.*[?(@.baz)].baz" }, foo)).toBe(false);
  });

  test("a JSON path must match the expected value (test_tolerance_jsonpath_must_match_expected_value)", () => {
    const path = "$.foo[?(@.baz)].baz";
    expect(within({ type: "jsonpath", path, expect: "hello" }, { foo: { baz: "hello" } })).toBe(true);
    expect(
      within(
        { type: "jsonpath", path, expect: [["hello", "bonjour"]] },
        { foo: { baz: ["hello", "bonjour"] } },
      ),
    ).toBe(true);
    expect(
      within(
        { type: "jsonpath", path, expect: [[["hello"], ["bonjour"]]] },
        { foo: { baz: [["hello"], ["bonjour"]] } },
      ),
    ).toBe(true);
    expect(within({ type: "jsonpath", path, expect: [] }, { foo: { jon: "boom" } })).toBe(true);
  });

  test("a JSON path can filter by value (test_tolerance_jsonpath_can_be_filter_by_value)", () => {
    const value = { foo: { baz: "hello" } };
    expect(within({ type: "jsonpath", path: '$.foo[?(@.baz="hello")]', count: 1 }, value)).toBe(true);
    expect(within({ type: "jsonpath", path: '$.foo[?(@.baz="bonjour")]', count: 1 }, value)).toBe(false);
  });

  test("a JSON path must match the expected values (test_tolerance_jsonpath_must_match_expected_values)", () => {
    const t = { type: "jsonpath", path: "$.foo.*[?(@.baz)].baz", expect: ["hello", "bonjour"] };
    expect(within(t, { foo: [{ baz: "hello" }, { baz: "bonjour" }] })).toBe(true);
  });

  test("a JSON path counts the items with a given value", () => {
    // test_tolerance_jsonpath_must_find_items_with_a_given_value_to_succeed
    expect(
      within({ type: "jsonpath", path: "$.foo.*[?(@.baz=2)]", count: 1 }, { foo: [{ baz: 1 }, { baz: 2 }] }),
    ).toBe(true);
    expect(
      within({ type: "jsonpath", path: "$.foo.*[?(@.baz)]", count: 2 }, { foo: [{ baz: 1 }, { baz: 2 }] }),
    ).toBe(true);
    expect(
      within({ type: "jsonpath", path: "$.foo.*[?(@.baz=4)]", count: 2 }, { foo: [{ baz: 4 }, { baz: 4 }] }),
    ).toBe(true);
  });

  test("a JSON path reads a JSON text and JSON bytes", () => {
    const t = { type: "jsonpath", path: "$.foo[*].baz" };
    expect(within(t, '{"foo": [{"baz": 1}, {"baz": 2}]}')).toBe(true); // test_tolerance_jsonpath_from_jsonstring
    // test_tolerance_jsonpath_from_bytes: bytes reach a tolerance here as text, decoded as UTF-8
    expect(within(t, Buffer.from('{"foo": [{"baz": 1}, {"baz": 2}]}').toString("utf8"))).toBe(true);
  });

  test("a JSON path cannot be empty (test_tolerance_jsonpath_cannot_be_empty)", () => {
    expect(invalid({ type: "jsonpath", path: "" })).toContain("JSON path cannot be empty");
  });

  test("a regex searches stdout, stderr or the body as its target says", () => {
    const t = (target: string) => ({ type: "regex", target, pattern: "[0-9]{2}" });
    expect(within(t("stdout"), { status: 0, stdout: "you are number 87", stderr: "" })).toBe(true);
    expect(within(t("stdout"), { status: 0, stdout: "you are number 8", stderr: "" })).toBe(false);
    expect(within(t("stderr"), { status: 0, stdout: "", stderr: "you are number 87" })).toBe(true);
    expect(within(t("stderr"), { status: 0, stdout: "", stderr: "you are number 8" })).toBe(false);
    // test_tolerance_regex_process_only_match_stdout_or_stderr
    expect(within(t("stdout"), { status: 0, stdout: "you are number 87", stderr: "you are number 8" })).toBe(
      true,
    );
    // test_tolerance_regex_body_http
    const http = { status: 200, headers: { "Content-Type": "application/json" }, body: "you are number 87" };
    expect(within(t("body"), http)).toBe(true);
  });

  test("a regex tolerance needs a valid pattern", () => {
    expect(invalid({ type: "regex", target: "stdout" })).toContain("tolerance must have a `pattern` key");
    expect(invalid({ type: "regex", target: "stdout", pattern: null })).toContain(
      "tolerance pattern null has an invalid type",
    );
    expect(invalid({ type: "regex", target: "stdout", pattern: "[0-9" })).toContain(
      "pattern [0-9 seems invalid",
    );
  });

  test("an unknown tolerance type is unsupported (test_tolerance_unsupported_type)", () => {
    expect(invalid({ type: "boom" })).toContain("tolerance type 'boom' is unsupported");
  });

  test("a range holds integers, floats and their mixes, read from text", () => {
    const r = (range: unknown[]) => ({ type: "range", target: "body", range });
    expect(within(r([10, 800]), text("580"))).toBe(true); // test_tolerance_range_integer
    expect(within(r([10, 800]), text("1230"))).toBe(false);
    expect(within(r([10.5, 800.89]), text("580.5"))).toBe(true); // test_tolerance_range_float
    expect(within(r([10.5, 800.89]), text("1230.7"))).toBe(false);
    expect(within(r([10, 800.8]), text("580.4"))).toBe(true); // test_tolerance_range_mix_integer_and_float
    expect(within(r([10.5, 800]), text("1230"))).toBe(false);
    expect(invalid(r(["a", 6]))).toContain("lower boundary must be a number");
    expect(invalid(r([6, "b"]))).toContain("upper boundary must be a number");
    expect(within(r([6, 8]), text("bad"))).toBe(false); // test_tolerance_range_checked_value_must_be_a_number
  });

  test("a probe tolerance is refused with a reason (test_tolerance_with_a_probe needs a Python function)", () => {
    const t = {
      type: "probe",
      name: "must-be-in-range",
      provider: { type: "python", module: "m", func: "f" },
    };
    expect(invalid(t)).toContain("a probe tolerance calls a provider");
  });
});

describe("Chaos Toolkit tolerance rules beyond the ported table (chaoslib/hypothesis.py)", () => {
  test("two numbers make a range and other lists a membership test", () => {
    expect(within([1, 3], 2)).toBe(true);
    expect(within([1, 3], 4)).toBe(false);
    expect(within([1, 2, 3], 2)).toBe(true);
    expect(within(["a", "b", "c"], "d")).toBe(false);
  });

  test("Python equality makes true equal 1, and a float tolerance is invalid", () => {
    expect(within(true, 1)).toBe(true);
    expect(invalid(0.5)).toContain("not an integer");
  });

  test("a regex on a mapping fails the tolerance instead of passing", () => {
    const tol = ctkTolerance({ type: "regex", pattern: "x" });
    expect(tol.judge({ value: 1, fields: { status: 0, stdout: "x", stderr: "" } })).toMatchObject({
      ok: false,
      outcome: "fail",
    });
  });

  test("an HTTP body is parsed only when its content type is exactly application/json", () => {
    const t = { type: "jsonpath", target: "body", path: "$.ok", expect: true };
    const fields = (ct: string) => ({ status: 200, headers: { "content-type": ct }, text: '{"ok": true}' });
    expect(ctkTolerance(t).judge({ value: 200, fields: fields("application/json") }).ok).toBe(true);
    // A text body is still read as JSON by the jsonpath tolerance, as Chaos Toolkit does.
    expect(ctkTolerance(t).judge({ value: 200, fields: fields("text/plain") }).ok).toBe(true);
    expect(ctkTolerance(200).judge({ value: 200, fields: fields("text/plain") }).ok).toBe(true);
    expect(ctkTolerance("x").judge({ value: 200, fields: fields("text/plain") }).ok).toBe(false);
  });
});

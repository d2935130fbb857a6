import { describe, expect, it } from "vitest";
import { ChaosError } from "../../experiments/errors.js";
import { evaluateJsonPath, JsonPathSyntaxError, parseJsonPath } from "./json-path.js";

const doc = {
  status: "ok",
  checks: [
    { name: "db", ok: true },
    { name: "cache", ok: false },
  ],
  "key with space": { "it's": 1 },
  nested: { zero: 0, empty: "", nothing: null },
};

describe("parseJsonPath", () => {
  it("reads member, index and quoted segments in order", () => {
    expect(parseJsonPath("$.checks[1].name")).toEqual(["checks", 1, "name"]);
    expect(parseJsonPath(`$['key with space']["it's"]`)).toEqual(["key with space", "it's"]);
    expect(parseJsonPath("$")).toEqual([]);
  });

  it("unescapes a backslash inside a quoted key", () => {
    expect(parseJsonPath("$['it\\'s']")).toEqual(["it's"]);
  });

  it("accepts a negative index", () => {
    expect(parseJsonPath("$.a[-1]")).toEqual(["a", -1]);
  });

  it.each([
    ["a.b", 0, "must start with $"],
    ["$.", 2, "expected a member name"],
    ["$.a[", 4, "expected an array index"],
    ["$.a[0", 5, "expected ']'"],
    ["$['open", 7, "unterminated quoted key"],
    ["$.a[*]", 4, "expected an array index"],
    ["$..a", 2, "expected a member name"],
    ["$ a", 1, "unexpected"],
  ])("rejects %s at offset %i", (expression, offset, message) => {
    let caught: unknown;
    try {
      parseJsonPath(expression);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(JsonPathSyntaxError);
    expect(caught).toBeInstanceOf(ChaosError);
    const error = caught as JsonPathSyntaxError;
    expect(error.code).toBe("invalid");
    expect(error.offset).toBe(offset);
    expect(error.message).toContain(message);
  });
});

describe("evaluateJsonPath", () => {
  it("selects nested members and array elements", () => {
    expect(evaluateJsonPath(doc, "$.status")).toBe("ok");
    expect(evaluateJsonPath(doc, "$.checks[0].ok")).toBe(true);
    expect(evaluateJsonPath(doc, "$.checks[-1].name")).toBe("cache");
    expect(evaluateJsonPath(doc, "$['key with space']['it\\'s']")).toBe(1);
  });

  it("returns the whole document for $", () => {
    expect(evaluateJsonPath(doc, "$")).toBe(doc);
  });

  it("keeps falsy values distinct from a missing path", () => {
    expect(evaluateJsonPath(doc, "$.nested.zero")).toBe(0);
    expect(evaluateJsonPath(doc, "$.nested.empty")).toBe("");
    expect(evaluateJsonPath(doc, "$.nested.nothing")).toBeNull();
    expect(evaluateJsonPath(doc, "$.nested.absent")).toBeUndefined();
  });

  it("returns undefined when a step does not fit the document", () => {
    expect(evaluateJsonPath(doc, "$.checks[5]")).toBeUndefined();
    expect(evaluateJsonPath(doc, "$.checks[-3]")).toBeUndefined();
    expect(evaluateJsonPath(doc, "$.checks.name")).toBeUndefined();
    expect(evaluateJsonPath(doc, "$.status[0]")).toBeUndefined();
    expect(evaluateJsonPath(doc, "$.status.length")).toBeUndefined();
    expect(evaluateJsonPath(null, "$.a")).toBeUndefined();
  });

  it("does not reach inherited properties", () => {
    expect(evaluateJsonPath({}, "$.constructor")).toBeUndefined();
    expect(evaluateJsonPath({}, "$.__proto__")).toBeUndefined();
  });
});

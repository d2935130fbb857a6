import { describe, expect, it } from "vitest";
import { parseLabelSelector, toLabelSelector } from "./selector.js";

describe("parseLabelSelector", () => {
  it("reads every operator of the label selector grammar", () => {
    expect(parseLabelSelector("app in (a, b),tier!=db,env==prod,canary,!legacy,x=y,z notin (q)")).toEqual([
      { key: "app", operator: "In", values: ["a", "b"] },
      { key: "tier", operator: "NotIn", values: ["db"] },
      { key: "env", operator: "In", values: ["prod"] },
      { key: "canary", operator: "Exists" },
      { key: "legacy", operator: "DoesNotExist" },
      { key: "x", operator: "In", values: ["y"] },
      { key: "z", operator: "NotIn", values: ["q"] },
    ]);
  });

  it("keeps prefixed keys", () => {
    expect(parseLabelSelector("app.kubernetes.io/name=web")).toEqual([
      { key: "app.kubernetes.io/name", operator: "In", values: ["web"] },
    ]);
  });

  it("names the term it cannot read", () => {
    expect(() => parseLabelSelector("app=web,in (x)")).toThrow('cannot read "in (x)" in the label selector');
    expect(() => parseLabelSelector("a b")).toThrow(/cannot read "a b"/);
  });
});

describe("toLabelSelector", () => {
  it("combines labels and a selector string, both of which must match", () => {
    expect(toLabelSelector({ app: "web" }, "tier!=db")).toEqual({
      matchLabels: { app: "web" },
      matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }],
    });
  });
});

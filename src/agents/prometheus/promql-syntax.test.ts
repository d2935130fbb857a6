import { describe, expect, it } from "vitest";
import { prometheusAgent } from "./index.js";
import { checkPromqlSyntax } from "./promql-syntax.js";

const check = prometheusAgent.probes.query!.check!;

describe("the offline PromQL check", () => {
  it("accepts valid queries", () => {
    for (const query of [
      "up",
      'sum by (job) (rate(http_requests_total{status=~"5.."}[1m]))',
      "histogram_quantile(0.99, sum by (le) (rate(latency_bucket[30s])))",
      "0/0",
      'max_over_time(up{job="a"}[5m] offset 1m)',
    ]) {
      expect(checkPromqlSyntax(query), query).toBeUndefined();
    }
  });

  it("points at an unknown token inside the query", () => {
    expect(checkPromqlSyntax("foo bar")).toMatchObject({
      offset: 4,
      message: expect.stringContaining("near 'bar'"),
    });
  });

  it("points at the end of a query with an unclosed bracket", () => {
    const problem = checkPromqlSyntax("sum(rate(x[5m])");
    expect(problem?.offset).toBe(15);
    expect(problem?.message).toMatch(/ends too early/);
  });

  it("points at the first of several errors", () => {
    expect(checkPromqlSyntax("rate(x[5m]) by (job)")?.offset).toBe(12);
    expect(checkPromqlSyntax('up{job="a"} +')?.offset).toBe(13);
  });

  it("refuses what Prometheus's parser refuses beyond the grammar, and accepts RE2's own forms", () => {
    for (const [query, message] of [
      ["{}", /matches every series/],
      ['{__name__=~".*"}', /matches every series/],
      ['{job=""}', /matches every series/],
      ['{job!="a"}', /matches every series/],
      ['up{job=~"("}', /regex "\(" does not compile: Unterminated group/],
      ['up{job!~"a**"}', /does not compile/],
      ['label_replace(up, "a", "$1", "b", "(")', /label_replace's regex "\(" does not compile/],
    ] as const) {
      expect(checkPromqlSyntax(query)?.message, query).toMatch(message);
    }
    expect(checkPromqlSyntax('up{job=~"("}')?.offset).toBe(3);
    for (const query of [
      '{job="api"}',
      '{__name__=~"http_.+"}',
      'up{job=~"(?i)API|web"}',
      'up{job=~"(?P<x>a)b"}',
      "up{job=~`a\\.b`}",
      'label_replace(up, "a", "$1", "b", "(.*)")',
      '{"my.metric"}',
    ]) {
      expect(checkPromqlSyntax(query), query).toBeUndefined();
    }
  });

  it("reports an empty query", () => {
    expect(checkPromqlSyntax("  ")?.message).toBe("PromQL query is empty");
  });

  it("returns the problem at the query's path through the probe's check", () => {
    const problems = check({ query: "sum(x) wihtout (job)" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      path: ["query"],
      offset: 7,
      message: expect.stringContaining("near 'wihtout'"),
    });
    expect(problems[0]?.hint).toBeTruthy();
  });
});

describe("the probe's argument check", () => {
  it("accepts an instant query and a range query with its aggregate", () => {
    expect(check({ query: "up" })).toEqual([]);
    expect(
      check({ query: "up", range: "30s", step: "2s", aggregate: "avg", series: "each", timeout: "500ms" }),
    ).toEqual([]);
  });

  it("asks for aggregate when a range is given", () => {
    expect(check({ query: "up", range: "30s" })).toEqual([
      expect.objectContaining({ path: ["aggregate"], hint: "add aggregate: max | min | avg | last" }),
    ]);
  });

  it("refuses aggregate or step without a range", () => {
    const paths = check({ query: "up", aggregate: "max", step: "1s" }).map((p) => p.path.join("."));
    expect(paths).toEqual(["aggregate", "step"]);
  });

  it("refuses bad durations, a step longer than the range, and too many points", () => {
    expect(check({ query: "up", range: "30 parsecs", aggregate: "max" })[0]).toMatchObject({
      path: ["range"],
      message: expect.stringContaining("not a duration"),
    });
    expect(check({ query: "up", range: "5s", step: "10s", aggregate: "max" })[0]?.message).toBe(
      "step is longer than range",
    );
    expect(check({ query: "up", range: "4h", aggregate: "max" })[0]?.message).toMatch(
      /more than 11000 points/,
    );
    expect(check({ query: "up", range: "4h", step: "2s", aggregate: "max" })).toEqual([]);
    expect(check({ query: "up", timeout: "0s" })[0]).toMatchObject({ path: ["timeout"] });
  });

  it("reports every problem at once", () => {
    expect(check({ query: "up{", range: "1x", series: "median" }).map((p) => p.path[0])).toEqual([
      "query",
      "range",
      "series",
      "aggregate",
    ]);
  });
});

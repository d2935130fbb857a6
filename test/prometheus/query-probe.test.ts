import { Counter, Gauge, Registry } from "prom-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningPrometheus } from "../../examples/target-app/prometheus-server.js";
import { prometheusAgent } from "../../src/agents/prometheus/index.js";
import { ChaosError } from "../../src/experiments/errors.js";
import {
  describeWithPrometheus,
  type MetricsEndpoint,
  serveMetrics,
  startTestPrometheus,
  waitForQuery,
} from "../support/prometheus.js";
import { testContext } from "./context.js";

const probe = prometheusAgent.probes.query!;

/** The scraped value of an instant vector with one series, or undefined before the first scrape. */
function single(result: unknown): number | undefined {
  const list = result as { value: [number, string] }[] | undefined;
  return list?.length === 1 ? Number(list[0]!.value[1]) : undefined;
}

async function errorOf(promise: Promise<unknown>): Promise<ChaosError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ChaosError);
    return err as ChaosError;
  }
  throw new Error("expected a ChaosError, nothing was thrown");
}

describeWithPrometheus("the prometheus query probe against a real Prometheus", () => {
  const registry = new Registry();
  const gauge = new Gauge({
    name: "chaos_test_gauge",
    help: "a gauge set by the test",
    registers: [registry],
  });
  const stepper = new Gauge({ name: "chaos_test_stepper", help: "walks 1, 5, 3", registers: [registry] });
  const requests = new Counter({
    name: "chaos_test_requests_total",
    help: "a counter",
    registers: [registry],
  });
  const latency = new Gauge({
    name: "chaos_test_latency_seconds",
    help: "one series per route",
    labelNames: ["route"],
    registers: [registry],
  });
  let exporter: MetricsEndpoint;
  let prometheus: RunningPrometheus;
  let ctx: ReturnType<typeof testContext>;

  beforeAll(async () => {
    gauge.set(0.013);
    requests.inc(7);
    latency.set({ route: "a" }, 0.1);
    latency.set({ route: "b" }, 0.2);
    latency.set({ route: "c" }, 0.3);
    stepper.set(1);
    exporter = await serveMetrics(registry);
    prometheus = await startTestPrometheus([exporter.target]);
    ctx = testContext({ url: prometheus.url, timeout: "3s", retries: 1 });
    // Walk the stepper 1 → 5 → 3, each value scraped at least once, so a range holds all three.
    await waitForQuery(prometheus.url, "chaos_test_stepper", (r) => single(r) === 1);
    stepper.set(5);
    await waitForQuery(prometheus.url, "chaos_test_stepper", (r) => single(r) === 5);
    stepper.set(3);
    await waitForQuery(prometheus.url, "chaos_test_stepper", (r) => single(r) === 3);
  });

  afterAll(async () => {
    await ctx?.dispose();
    await prometheus?.stop();
    await exporter?.close();
  });

  it("reads the scraped value of a gauge with an instant query", async () => {
    const result = await probe.run({ query: "chaos_test_gauge" }, ctx);
    expect(result.value).toBe(0.013);
    expect(result.fields).toEqual({ series: 1 });
    expect(result.summary).toBe("0.013 (1 series)");
  });

  it("reads a counter's total", async () => {
    const result = await probe.run({ query: 'sum(chaos_test_requests_total{job="targets"})' }, ctx);
    expect(result.value).toBe(7);
  });

  it("returns a scalar as a number", async () => {
    const result = await probe.run({ query: "scalar(chaos_test_gauge) * 1000" }, ctx);
    expect(result.value).toBe(13);
    expect(result.summary).toBe("13 (scalar)");
  });

  it("reduces a range to its max, min and last points", async () => {
    const range = { query: "chaos_test_stepper", range: "60s", step: "1s" };
    expect((await probe.run({ ...range, aggregate: "max" }, ctx)).value).toBe(5);
    expect((await probe.run({ ...range, aggregate: "min" }, ctx)).value).toBe(1);
    const last = await probe.run({ ...range, aggregate: "last" }, ctx);
    expect(last.value).toBe(3);
    expect(last.summary).toBe("last over 1m: 3 (1 series)");
  });

  it("averages a range strictly between its extremes", async () => {
    const result = await probe.run({ query: "chaos_test_stepper", range: "60s", aggregate: "avg" }, ctx);
    expect(result.value).toBeGreaterThan(1);
    expect(result.value).toBeLessThan(5);
  });

  it("refuses several series when no series rule says how to judge them", async () => {
    const err = await errorOf(probe.run({ query: "chaos_test_latency_seconds" }, ctx));
    expect(err.code).toBe("invalid");
    expect(err.message).toMatch(/query returned 3 series/);
    expect(err.message).toContain('route="a"');
    expect(err.hint).toMatch(/series: each \| any \| sum \| max \| min \| avg/);
  });

  it("keeps every series, with its labels, for each and any", async () => {
    const each = await probe.run({ query: "chaos_test_latency_seconds", series: "each" }, ctx);
    expect(each.quantifier).toBe("each");
    expect(each.fields).toEqual({ series: 3 });
    const byRoute = Object.fromEntries((each.series ?? []).map((s) => [s.labels.route, s.value]));
    expect(byRoute).toEqual({ a: 0.1, b: 0.2, c: 0.3 });
    expect(each.series?.[0]?.labels.__name__).toBe("chaos_test_latency_seconds");

    const any = await probe.run({ query: "chaos_test_latency_seconds", series: "any" }, ctx);
    expect(any.quantifier).toBe("any");
    expect(any.series).toHaveLength(3);
  });

  it("reduces several series with sum, max, min and avg", async () => {
    const q = { query: "chaos_test_latency_seconds" };
    const sum = await probe.run({ ...q, series: "sum" }, ctx);
    expect(sum.value).toBeCloseTo(0.6, 10);
    expect(sum.summary).toBe("0.6 (sum of 3 series)");
    expect((await probe.run({ ...q, series: "max" }, ctx)).value).toBe(0.3);
    expect((await probe.run({ ...q, series: "min" }, ctx)).value).toBe(0.1);
    expect((await probe.run({ ...q, series: "avg" }, ctx)).value).toBeCloseTo(0.2, 10);
  });

  it("applies aggregate per series over a range, then the series rule", async () => {
    const result = await probe.run(
      { query: "chaos_test_latency_seconds", range: "10s", aggregate: "max", series: "each" },
      ctx,
    );
    expect((result.series ?? []).map((s) => s.value).sort()).toEqual([0.1, 0.2, 0.3]);
  });

  it("yields null for an empty result, with or without a series rule", async () => {
    const empty = await probe.run({ query: "chaos_test_metric_that_does_not_exist" }, ctx);
    expect(empty.value).toBeNull();
    expect(empty.fields).toEqual({ series: 0 });
    expect(empty.summary).toBe("empty (0 series)");
    const each = await probe.run({ query: "chaos_test_metric_that_does_not_exist", series: "each" }, ctx);
    expect(each.value).toBeNull();
    expect(each.series).toEqual([]);
    const ranged = await probe.run(
      { query: "chaos_test_metric_that_does_not_exist", range: "5s", aggregate: "max" },
      ctx,
    );
    expect(ranged.value).toBeNull();
    expect(ranged.fields).toEqual({ series: 0, resultType: "matrix" });
    const rangedEach = await probe.run(
      { query: "chaos_test_metric_that_does_not_exist", range: "5s", aggregate: "max", series: "each" },
      ctx,
    );
    expect(rangedEach.series).toEqual([]);
    expect(rangedEach.fields).toEqual({ series: 0, resultType: "matrix" });
  });

  it("keeps NaN as NaN and infinities as infinities", async () => {
    expect((await probe.run({ query: "0/0" }, ctx)).value).toBeNaN();
    const vectorNaN = await probe.run({ query: "chaos_test_gauge * 0 / 0" }, ctx);
    expect(vectorNaN.value).toBeNaN();
    expect(vectorNaN.summary).toBe("NaN (1 series)");
    expect((await probe.run({ query: "1/0" }, ctx)).value).toBe(Number.POSITIVE_INFINITY);
    expect((await probe.run({ query: "-1/0" }, ctx)).value).toBe(Number.NEGATIVE_INFINITY);
  });

  it("passes a query that Prometheus accepts at preflight", async () => {
    await expect(probe.preflight!({ query: "chaos_test_gauge" }, ctx)).resolves.toBeUndefined();
    await expect(
      probe.preflight!({ query: "chaos_test_latency_seconds", series: "max" }, ctx),
    ).resolves.toBeUndefined();
  });

  it("turns a query Prometheus rejects into an invalid experiment at preflight", async () => {
    // The grammar is fine (the offline check passes); only Prometheus knows rate() needs a range vector.
    expect(probe.check!({ query: "rate(chaos_test_requests_total)" })).toEqual([]);
    const err = await errorOf(probe.preflight!({ query: "rate(chaos_test_requests_total)" }, ctx));
    expect(err.code).toBe("invalid");
    expect(err.message).toMatch(/^Prometheus rejected the query: .*range vector/);
  });

  it("reports several series without a rule already at preflight", async () => {
    const err = await errorOf(probe.preflight!({ query: "chaos_test_latency_seconds" }, ctx));
    expect(err.code).toBe("invalid");
    expect(err.message).toMatch(/3 series/);
  });

  it("rejects a range query whose resolution Prometheus refuses", async () => {
    // 12h at 1s is more than 11,000 points: caught offline by check(), and by readArgs at run.
    const err = await errorOf(probe.run({ query: "chaos_test_gauge", range: "12h", aggregate: "max" }, ctx));
    expect(err.code).toBe("invalid");
    expect(err.message).toMatch(/11000 points/);
  });
});

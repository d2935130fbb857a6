import { describe, expect, test } from "vitest";
import { httpAgent } from "../../agents/http/index.js";
import { kubernetesAgent } from "../../agents/kubernetes/index.js";
import { processAgent } from "../../agents/process/index.js";
import { prometheusAgent } from "../../agents/prometheus/index.js";
import { Registry } from "../../agents/registry.js";
import { toxiproxyAgent } from "../../agents/toxiproxy/index.js";
import type { ProbeResult } from "../../contract/agent.js";
import { ValidationErrors } from "../errors.js";
import { parseExperiment } from "../load.js";
import schema from "../schema/experiment.schema.json" with { type: "json" };
import type { Obj } from "./context.js";
import { K8S_SHAPES } from "./shapes.js";
import { DEFAULT_STRATEGY, HYPOTHESIS_STRATEGIES, translateCtk } from "./translate.js";

const registry = new Registry([httpAgent, processAgent, prometheusAgent, toxiproxyAgent, kubernetesAgent]);
const env = { BASE: "http://127.0.0.1:9" };

function load(doc: unknown, opts: { vars?: Record<string, unknown>; env?: NodeJS.ProcessEnv } = {}) {
  return parseExperiment("exp.json", JSON.stringify(doc, null, 2), {
    registry,
    env: opts.env ?? env,
    vars: opts.vars,
  });
}

function problems(text: string): string[] {
  try {
    parseExperiment("exp.yaml", text, { registry, env });
  } catch (err) {
    if (err instanceof ValidationErrors) return err.errors.map((e) => e.format());
    throw err;
  }
  return [];
}

const health = {
  type: "probe",
  name: "health",
  tolerance: 200,
  provider: { type: "http", url: "${base}/healthz", timeout: 2 },
};

describe("a Chaos Toolkit experiment read as one of ours", () => {
  test("configuration from the environment with a default, and ${name} substitution", () => {
    const e = load({
      title: "t",
      configuration: {
        base: { type: "env", key: "BASE" },
        other: { type: "env", key: "NOPE", default: "x" },
      },
      "steady-state-hypothesis": { title: "h", probes: [health] },
      method: [
        { type: "probe", name: "other", provider: { type: "http", url: "http://127.0.0.1:9/${other}" } },
      ],
    });
    expect(e.configuration).toEqual({ base: "http://127.0.0.1:9", other: "x" });
    expect(e.steadyState!.probes[0]).toMatchObject({
      key: "http",
      args: { url: "http://127.0.0.1:9/healthz", timeout: "2s" },
    });
    expect(e.steadyState!.probes[0]!.tolerance!.text).toBe('{"status":200}');
    expect(e.method[0]).toMatchObject({ kind: "probe", probe: { args: { url: "http://127.0.0.1:9/x" } } });
    expect(e.source?.format).toBe("chaostoolkit");
  });

  test("--var overrides a configuration value, env ones included, and adds new names", () => {
    const e = load(
      {
        title: "t",
        configuration: { base: { type: "env", key: "BASE" } },
        "steady-state-hypothesis": { title: "h", probes: [health] },
        method: [{ ref: "health" }],
      },
      { vars: { base: "http://127.0.0.1:10", extra: 3 } },
    );
    expect(e.configuration).toEqual({ base: "http://127.0.0.1:10", extra: 3 });
  });

  test("inline and env secrets become secrets, masked in the journal's copies", () => {
    const e = load({
      title: "t",
      configuration: { base: "http://127.0.0.1:9" },
      secrets: { app: { token: "s3cret", key: { type: "env", key: "API_KEY" } } },
      method: [
        {
          type: "probe",
          name: "p",
          provider: {
            type: "http",
            url: "${base}/",
            headers: { Authorization: "Bearer ${token}", K: "${key}" },
          },
        },
      ],
    });
    expect(e.secrets).toEqual({ token: { value: "s3cret" }, key: { env: "API_KEY" } });
    expect(JSON.stringify(e.document)).not.toContain("s3cret");
    expect(JSON.stringify(e.source!.document)).not.toContain("s3cret");
    expect(JSON.stringify(e.method)).not.toContain("s3cret");
  });

  test("pauses become pause steps, ref copies an earlier activity, background and rollbacks are kept", () => {
    const e = load({
      title: "t",
      configuration: { base: "http://127.0.0.1:9" },
      "steady-state-hypothesis": { title: "h", probes: [health] },
      method: [
        {
          type: "action",
          name: "list",
          background: true,
          pauses: { before: 0.5, after: 2 },
          provider: { type: "process", path: "ls", arguments: { "-d": "/", "": "" }, timeout: 3 },
        },
        { ref: "health" },
      ],
      rollbacks: [
        { type: "action", name: "undo", provider: { type: "process", path: "true", arguments: "x y" } },
      ],
    });
    expect(e.method.map((s) => [s.kind, s.name])).toEqual([
      ["pause", "pause 500ms"],
      ["action", "list"],
      ["pause", "pause 2s"],
      ["probe", "health"],
    ]);
    expect(e.method[1]).toMatchObject({
      ref: "process.exec",
      background: true,
      args: { path: "ls", arguments: ["-d", "/"], timeout: "3s" },
    });
    expect(e.rollbacks[0]).toMatchObject({ ref: "process.exec", args: { path: "true", shell: "x y" } });
  });

  test("a mapping of arguments is sent as JSON when the provider's Content-Type says JSON", () => {
    const e = load({
      title: "t",
      method: [
        {
          type: "probe",
          name: "post",
          provider: {
            type: "http",
            url: "http://127.0.0.1:9/x",
            method: "POST",
            headers: { "Content-Type": "application/json" },
            arguments: { a: 1, b: "two" },
          },
        },
      ],
    });
    expect(e.method[0]).toMatchObject({ probe: { args: { body: '{"a":1,"b":"two"}' } } });
  });

  test("GET arguments are the query string, other methods send them form-encoded", () => {
    const e = load({
      title: "t",
      method: [
        {
          type: "probe",
          name: "g",
          provider: { type: "http", url: "http://h:1/a", arguments: { q: "a b", n: 2 } },
        },
        {
          type: "probe",
          name: "p",
          provider: {
            type: "http",
            method: "post",
            url: "http://h:1/a",
            arguments: { q: "a b" },
            timeout: [1, 2],
          },
        },
      ],
    });
    expect(e.method[0]).toMatchObject({ probe: { args: { url: "http://h:1/a?q=a%20b&n=2" } } });
    expect(e.method[1]).toMatchObject({
      probe: {
        args: {
          method: "POST",
          body: "q=a%20b",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          timeout: "3s",
        },
      },
    });
  });

  test("the continuously strategy checks the hypothesis during the method at the given frequency", () => {
    const doc = {
      title: "t",
      configuration: { base: "http://127.0.0.1:9" },
      "steady-state-hypothesis": { title: "h", probes: [health] },
      method: [{ ref: "health" }],
    };
    const text = JSON.stringify(doc);
    const strategy = {
      ...DEFAULT_STRATEGY,
      hypothesis: "continuously" as const,
      frequency: 0.5,
      failFast: true,
    };
    expect(parseExperiment("e.json", text, { registry, env, strategy }).steadyState!.during).toEqual({
      everyMs: 500,
      failFast: true,
    });
    expect(parseExperiment("e.json", text, { registry, env }).steadyState!.during).toBeUndefined();
    expect(
      parseExperiment("e.json", text, {
        registry,
        env,
        strategy: { ...DEFAULT_STRATEGY, acceptUnobserved: true },
      }).steadyState!.during,
    ).toBe("none");
  });

  test("each hypothesis strategy checks the phases chaoslib/run.py checks (should_run_before/during/after_method)", () => {
    const text = JSON.stringify({
      title: "t",
      configuration: { base: "http://127.0.0.1:9" },
      "steady-state-hypothesis": { title: "h", probes: [health] },
      method: [{ ref: "health" }],
    });
    const phases = (hypothesis: (typeof HYPOTHESIS_STRATEGIES)[number]) => {
      const s = parseExperiment("e.json", text, {
        registry,
        env,
        strategy: { ...DEFAULT_STRATEGY, hypothesis, frequency: 2 },
      }).steadyState!;
      return {
        before: !s.skip?.before,
        during: s.during !== undefined && s.during !== "none",
        after: !s.skip?.after,
      };
    };
    expect(Object.fromEntries(HYPOTHESIS_STRATEGIES.map((h) => [h, phases(h)]))).toEqual({
      default: { before: true, during: false, after: true },
      "before-method-only": { before: true, during: false, after: false },
      "after-method-only": { before: false, during: false, after: true },
      "during-method-only": { before: false, during: true, after: false },
      continuously: { before: true, during: true, after: true },
    });
  });

  test("extension providers map to our agents; their undo functions are left to the automatic reverts", () => {
    const e = load({
      title: "t",
      method: [
        {
          type: "action",
          name: "slow",
          provider: {
            type: "python",
            module: "chaostoxi.toxic.actions",
            func: "create_latency_toxic",
            arguments: { for_proxy: "payments-gateway", toxic_name: "l", latency: 500, jitter: 10 },
          },
        },
        {
          type: "action",
          name: "kill",
          provider: {
            type: "python",
            module: "chaosk8s.pod.actions",
            func: "terminate_pods",
            arguments: { label_selector: "app=web", ns: "shop", rand: true, qty: 2 },
          },
        },
      ],
      rollbacks: [
        {
          type: "action",
          name: "unslow",
          provider: {
            type: "python",
            module: "chaostoxi.toxic.actions",
            func: "delete_toxic",
            arguments: {},
          },
        },
      ],
    });
    expect(e.method[0]).toMatchObject({
      ref: "toxiproxy.latency",
      target: { proxy: "payments-gateway" },
      args: { latency: "500ms", jitter: "10ms", stream: "downstream" },
    });
    expect(e.method[1]).toMatchObject({
      ref: "kubernetes.pod-kill",
      target: { namespace: "shop", selector: "app=web", select: { mode: "count", count: 2 } },
    });
    expect(e.rollbacks).toEqual([]);
  });

  test("chaosk8s probes read kubernetes.pods or kubernetes.deployment; the tolerance sees what the function returns", () => {
    const k8s = (func: string, args: Obj, tolerance: unknown = true) => ({
      type: "probe",
      name: func,
      tolerance,
      provider: {
        type: "python",
        module: `chaosk8s.${func.startsWith("deploy") ? "deployment" : "pod"}.probes`,
        func,
        arguments: args,
      },
    });
    const e = load({
      title: "t",
      "steady-state-hypothesis": {
        title: "h",
        probes: [
          k8s("pods_in_phase", { label_selector: "app=web", ns: "shop" }),
          k8s("pods_not_in_phase", { label_selector: "app=web", raise_on_in_phase: false }, false),
          k8s("count_pods", { label_selector: "app=web", phase: "Pending" }, 0),
          k8s("count_min_pods", { label_selector: "app=web", min_count: 3 }),
          k8s("pod_is_not_available", { name: "web" }),
          k8s("deployment_available_and_healthy", { name: "web", ns: "shop" }),
        ],
      },
      method: [{ type: "action", name: "a", provider: { type: "process", path: "true" } }],
    });
    const [inPhase, notInPhase, count, min, notAvailable, healthy] = e.steadyState!.probes;
    expect(inPhase).toMatchObject({
      key: "kubernetes.pods",
      args: { namespace: "shop", selector: "app=web", phase: "Running" },
    });
    expect(count).toMatchObject({ args: { namespace: "default", selector: "app=web", phase: "Pending" } });
    expect(notAvailable).toMatchObject({ args: { selector: "name in (web)", phase: "Running" } });
    expect(healthy).toMatchObject({ key: "kubernetes.deployment", args: { namespace: "shop", name: "web" } });
    const pods = (value: number, total: number) => ({
      value,
      fields: { total },
      summary: `${value}/${total}`,
    });
    const judge = (p: typeof inPhase, r: ProbeResult) => p!.tolerance!.judge(r);
    expect(judge(inPhase, pods(3, 3)).ok).toBe(true);
    // No pod at all: pods_in_phase raises ActivityFailed, and the probe fails whatever its tolerance says.
    expect(judge(inPhase, pods(0, 0))).toMatchObject({ ok: false, reason: expect.stringMatching(/raised/) });
    // raise_on_in_phase: false returns False instead, which tolerance false accepts.
    expect(judge(notInPhase, pods(1, 3)).ok).toBe(true);
    expect(judge(notInPhase, pods(0, 3)).ok).toBe(false);
    expect(judge(count, pods(0, 3)).ok).toBe(true);
    expect(judge(min, pods(2, 2)).ok).toBe(false);
    expect(judge(min, pods(3, 4)).ok).toBe(true);
    expect(judge(notAvailable, pods(0, 0)).ok).toBe(true);
    const deployment = (replicas: number, available: number) => ({
      value: available,
      fields: { replicas, available },
    });
    expect(judge(healthy, deployment(2, 2)).ok).toBe(true);
    expect(judge(healthy, deployment(2, 1)).ok).toBe(false);
    // status.availableReplicas is None with 0 replicas, and None != 0.
    expect(judge(healthy, deployment(0, 0)).ok).toBe(false);
  });

  test("read_pod_logs, pods_in_conditions, all_pods_healthy and probes with an empty label_selector map as chaosk8s means them", () => {
    const k8s = (func: string, args: Obj, tolerance: unknown = true) => ({
      type: "probe",
      name: func,
      tolerance,
      provider: { type: "python", module: "chaosk8s.pod.probes", func, arguments: args },
    });
    const ready = [{ type: "Ready", status: "True" }];
    const e = load({
      title: "t",
      "steady-state-hypothesis": {
        title: "h",
        probes: [
          k8s(
            "read_pod_logs",
            { name: "web", ns: "shop", last: "10 minutes", container_name: "app" },
            {
              type: "regex",
              target: "web-0",
              pattern: "listening",
            },
          ),
          k8s(
            "read_pod_logs",
            { label_selector: "", from_previous: true },
            { type: "jsonpath", path: "$.*", count: 2 },
          ),
          k8s("pods_in_conditions", { label_selector: "app=web", conditions: ready, ns: "shop" }),
          k8s(
            "pods_in_conditions",
            { label_selector: "", conditions: ready, raise_on_invalid_conditions: false },
            false,
          ),
          k8s("all_pods_healthy", { ns: "shop" }),
          k8s("all_pods_healthy", { raise_on_any_unhealthy: false }, false),
          k8s("pods_in_phase", { label_selector: "", ns: "shop" }),
          k8s("count_pods", { label_selector: null }, 4),
          k8s("pod_is_not_available", { name: "web", label_selector: "" }),
        ],
      },
      method: [{ type: "action", name: "a", provider: { type: "process", path: "true" } }],
    });
    const [logs, allLogs, inConditions, anyConditions, healthy, unhealthyOk, inPhase, count, notAvailable] =
      e.steadyState!.probes;
    // label_selector defaults to "name in ({name})", formatted with name; `last` is a span before now.
    expect(logs).toMatchObject({
      key: "kubernetes.pod-logs",
      args: {
        namespace: "shop",
        selector: "name in (web)",
        container: "app",
        since: "600s",
        timestamps: true,
      },
    });
    expect(allLogs).toMatchObject({
      args: { namespace: "default", all: true, previous: true, timestamps: true },
    });
    expect(inConditions).toMatchObject({
      key: "kubernetes.pods",
      args: { namespace: "shop", selector: "app=web", conditions: ready },
    });
    expect(anyConditions).toMatchObject({ args: { namespace: "default", all: true, conditions: ready } });
    expect(healthy).toMatchObject({ key: "kubernetes.pods", args: { namespace: "shop", all: true } });
    expect(inPhase).toMatchObject({ args: { namespace: "shop", all: true, phase: "Running" } });
    expect(count).toMatchObject({ args: { namespace: "default", all: true } });
    expect(notAvailable).toMatchObject({ args: { all: true, phase: "Running" } });
    for (const p of [allLogs, anyConditions, healthy, inPhase, count, notAvailable])
      expect(p!.args).not.toHaveProperty("selector");

    const judge = (p: typeof logs, r: ProbeResult) => p!.tolerance!.judge(r);
    // read_pod_logs returns {pod name: text}: a regex with target reads one pod's log.
    const texts = (logs: Record<string, string>): ProbeResult => ({ value: 0, fields: { logs } });
    expect(judge(logs, texts({ "web-0": "2026-01-01T00:00:00.000000000Z listening on :80\n" })).ok).toBe(
      true,
    );
    expect(judge(logs, texts({ "web-0": "crashed\n" })).ok).toBe(false);
    expect(judge(allLogs, texts({ a: "x", b: "y" })).ok).toBe(true);
    expect(judge(allLogs, texts({ a: "x" })).ok).toBe(false);
    // pods_in_conditions: every pod listed carries the conditions; none listed raises (or returns False).
    const pods = (value: number, f: Obj): ProbeResult => ({ value, fields: f, summary: `${value}` });
    expect(judge(inConditions, pods(2, { total: 2 })).ok).toBe(true);
    expect(judge(inConditions, pods(1, { total: 2 }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/raised/),
    });
    expect(judge(inConditions, pods(0, { total: 0 }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/raised/),
    });
    expect(judge(anyConditions, pods(1, { total: 2 })).ok).toBe(true);
    expect(judge(anyConditions, pods(0, { total: 0 })).ok).toBe(true);
    // all_pods_healthy: Failed, Pending or Unknown pods make the system unhealthy; Succeeded ones do not.
    const phases = (running: number, succeeded: number, failed: number, pending: number) =>
      pods(running + succeeded + failed + pending, {
        total: running + succeeded + failed + pending,
        running,
        succeeded,
        failed,
        pending,
        unknown: 0,
      });
    expect(judge(healthy, phases(3, 1, 0, 0)).ok).toBe(true);
    expect(judge(healthy, phases(0, 0, 0, 0)).ok).toBe(true);
    expect(judge(healthy, phases(3, 0, 1, 0))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/raised/),
    });
    expect(judge(healthy, phases(3, 0, 0, 1)).ok).toBe(false);
    expect(judge(unhealthyOk, phases(3, 0, 0, 1)).ok).toBe(true);
    expect(judge(unhealthyOk, phases(3, 0, 0, 0)).ok).toBe(false);
    expect(judge(inPhase, pods(2, { total: 2 })).ok).toBe(true);
    // The experiment schema's output.chaosk8s names exactly the functions shapes.ts rebuilds.
    const outputEnum = JSON.stringify(schema).match(/"chaosk8s":\{"enum":(\[[^\]]*\])/)!;
    expect(JSON.parse(outputEnum[1]!).sort()).toEqual([...K8S_SHAPES].sort());

    const refused = problems(`title: t
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: conditions
      tolerance: true
      provider:
        type: python
        module: chaosk8s.pod.probes
        func: pods_in_conditions
        arguments: { label_selector: app=web, conditions: [{ type: Ready, status: "True", reason: x }] }
    - type: probe
      name: logs
      tolerance: true
      provider:
        type: python
        module: chaosk8s.pod.probes
        func: read_pod_logs
        arguments: { name: web, last: "2024-01-01" }
    - type: probe
      name: no selector
      tolerance: 2
      provider:
        type: python
        module: chaosk8s.pod.probes
        func: count_pods
        arguments: { ns: shop }
    - type: probe
      name: misnamed argument
      tolerance: true
      provider:
        type: python
        module: chaosk8s.pod.probes
        func: read_pod_logs
        arguments: { name: web, container: app }
method:
  - { type: action, name: a, provider: { type: process, path: "true" } }
`);
    expect(refused).toEqual([
      expect.stringMatching(/:12:.*conditions\[0\] has "reason": only type and status are compared/),
      expect.stringMatching(/:20:.*last "2024-01-01": only a time span such as "10 minutes" maps here/),
      // label_selector has no default there: chaoslib's validation refuses the activity without it.
      expect.stringMatching(/:28:.*required argument label_selector is missing.*"" or null reads every pod/),
      // As chaoslib's sig.bind: an argument the function does not take is refused, not ignored.
      expect.stringMatching(
        /:36:.*argument container is not part of the function's signature.*container_name/,
      ),
    ]);
  });

  test("chaosprometheus query_interval is a range query whose tolerance sees every point, as the API answers", () => {
    const prom = (func: string, args: Obj, tolerance: unknown) => ({
      type: "probe",
      name: func,
      tolerance,
      provider: { type: "python", module: "chaosprometheus.probes", func, arguments: args },
    });
    const e = load({
      title: "t",
      configuration: { prometheus_base_url: "http://127.0.0.1:9" },
      "steady-state-hypothesis": {
        title: "h",
        probes: [
          prom(
            "query_interval",
            { query: "up", start: "2 minutes ago", end: "now", step: 5 },
            { type: "jsonpath", path: "$.data.result[*].values[*][1]", count: 3 },
          ),
          prom("query", { query: "up" }, { type: "jsonpath", path: "$.data.result[*].metric.job", count: 2 }),
        ],
      },
      method: [{ type: "action", name: "a", provider: { type: "process", path: "true" } }],
    });
    expect(e.configuration).toMatchObject({ prometheus: { url: "http://127.0.0.1:9" } });
    const [interval, instant] = e.steadyState!.probes;
    expect(interval).toMatchObject({
      key: "prometheus",
      args: { query: "up", range: "120s", step: "5s", aggregate: "last", series: "each" },
    });
    const matrix: ProbeResult = {
      value: [1],
      series: [
        {
          labels: { job: "a" },
          value: 1,
          points: [
            [1, 1],
            [6, 0],
            [11, 1],
          ],
        },
      ],
    };
    expect(interval!.tolerance!.judge(matrix).ok).toBe(true);
    expect(
      interval!.tolerance!.judge({ ...matrix, series: [{ ...matrix.series![0]!, points: [[1, 1]] }] }).ok,
    ).toBe(false);
    const vector: ProbeResult = {
      value: [1, 1],
      series: [
        { labels: { job: "a" }, value: 1 },
        { labels: { job: "b" }, value: 1 },
      ],
    };
    expect(instant!.tolerance!.judge(vector).ok).toBe(true);
    // A range that found nothing is still a matrix, as Prometheus answers: {resultType: "matrix", result: []}.
    const emptyMatrix: ProbeResult = { value: null, series: [], fields: { series: 0, resultType: "matrix" } };
    const seesMatrix = (t: unknown) =>
      load({
        title: "t",
        configuration: { prometheus_base_url: "http://127.0.0.1:9" },
        "steady-state-hypothesis": {
          title: "h",
          probes: [prom("query_interval", { query: "up", start: "2 minutes ago", end: "now" }, t)],
        },
        method: [{ type: "action", name: "a", provider: { type: "process", path: "true" } }],
      }).steadyState!.probes[0]!.tolerance!.judge(emptyMatrix).ok;
    expect(seesMatrix({ type: "jsonpath", path: "$.data.resultType", expect: "matrix" })).toBe(true);
    expect(seesMatrix({ type: "jsonpath", path: "$.data.resultType", expect: "vector" })).toBe(false);
    expect(seesMatrix({ type: "jsonpath", path: "$.data.result[*]", count: 0 })).toBe(true);
    const refused = problems(`title: t
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: absolute
      tolerance: true
      provider:
        type: python
        module: chaosprometheus.probes
        func: query_interval
        arguments: { query: up, start: "2024-01-01T00:00:00Z", end: now }
method:
  - { type: action, name: a, provider: { type: process, path: "true" } }
`);
    expect(refused).toEqual([expect.stringMatching(/:12:.*only a time before now/)]);
  });

  test("safeguards keep the shape of what their probe returns", () => {
    const e = load({
      title: "t",
      method: [{ type: "action", name: "a", provider: { type: "process", path: "true" } }],
      controls: [
        {
          name: "safeguards",
          provider: {
            type: "python",
            module: "chaosaddons.controls.safeguards",
            arguments: {
              probes: [
                {
                  type: "probe",
                  name: "payments run",
                  frequency: 1,
                  tolerance: true,
                  provider: {
                    type: "python",
                    module: "chaosk8s.pod.probes",
                    func: "pods_in_phase",
                    arguments: { label_selector: "app=payments" },
                  },
                },
              ],
            },
          },
        },
      ],
    });
    const when = e.stopWhen[0]!.probe.tolerance!;
    expect(when.judge({ value: 2, fields: { total: 2 } }).ok).toBe(false);
    expect(when.judge({ value: 1, fields: { total: 2 } }).ok).toBe(true);
  });

  test("safeguards become stop conditions met when their tolerance is not; other controls are ignored once", () => {
    const e = load({
      title: "t",
      method: [{ type: "action", name: "a", provider: { type: "process", path: "true" } }],
      controls: [
        {
          name: "safeguards",
          provider: {
            type: "python",
            module: "chaosaddons.controls.safeguards",
            arguments: {
              probes: [
                {
                  type: "probe",
                  name: "errors low",
                  frequency: 2,
                  tolerance: true,
                  provider: { type: "process", path: "true" },
                },
              ],
            },
          },
        },
        { name: "tracing", provider: { type: "python", module: "chaostracing.control" } },
      ],
    });
    expect(e.stopWhen[0]).toMatchObject({
      name: "safeguard: errors low",
      everyMs: 2000,
      probe: { key: "process.exec" },
    });
    const when = e.stopWhen[0]!.probe.tolerance!;
    expect(when.judge({ value: 0, fields: { status: 0, stdout: "", stderr: "" } }).ok).toBe(true);
    expect(e.source!.ignored).toEqual([
      'control "tracing" (chaostracing.control) has no equivalent and is ignored',
    ]);
  });
});

describe("a Chaos Toolkit experiment that cannot run", () => {
  test("every unsupported provider and malformed part is reported at once, at its line", () => {
    const text = `title: broken
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: no tolerance
      provider: { type: http, url: "http://h:1/" }
    - type: probe
      name: bad regex
      tolerance: { type: regex, pattern: "[0-9" }
      provider: { type: http, url: "http://h:1/" }
method:
  - type: action
    name: stop instance
    provider: { type: python, module: chaosaws.ec2.actions, func: stop_instances }
  - type: action
    name: other
    provider: { type: python, module: chaosgcp.gke.actions, func: delete_cluster }
  - ref: nowhere
  - type: action
    name: weird
    provider: { type: ftp }
secrets:
  s: { v: { type: vault, path: x } }
`;
    const found = problems(text);
    expect(found).toEqual([
      expect.stringMatching(/^exp\.yaml:5:7: .*hypothesis probe must have a tolerance entry/),
      expect.stringMatching(/^exp\.yaml:10:42: .*pattern \[0-9 seems invalid/),
      expect.stringMatching(
        /^exp\.yaml:15:67: .*python provider chaosaws\.ec2\.actions\.stop_instances has no equivalent/,
      ),
      expect.stringMatching(
        /^exp\.yaml:18:67: .*python provider chaosgcp\.gke\.actions\.delete_cluster has no equivalent/,
      ),
      expect.stringMatching(/^exp\.yaml:19:10: .*no earlier activity is named "nowhere"/),
      expect.stringMatching(/^exp\.yaml:22:23: .*unknown provider type "ftp"/),
      expect.stringMatching(/^exp\.yaml:24:.*vault secrets are not supported/),
    ]);
  });

  test("a python probe tolerance, a float tolerance and an unknown tolerance type are refused", () => {
    const found = problems(`title: t
steady-state-hypothesis:
  title: h
  probes:
    - { type: probe, name: a, tolerance: 0.5, provider: { type: process, path: "true" } }
    - { type: probe, name: b, tolerance: { type: boom }, provider: { type: process, path: "true" } }
    - type: probe
      name: c
      tolerance: { type: probe, name: x, provider: { type: python, module: m, func: f } }
      provider: { type: process, path: "true" }
method:
  - { type: action, name: a, provider: { type: process, path: "true" } }
`);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/:5:.*tolerance 0.5 is not an integer/);
    expect(found[1]).toMatch(/:6:.*tolerance type 'boom' is unsupported/);
    expect(found[2]).toMatch(/:9:.*python provider m\.f cannot judge a tolerance here/);
  });

  test("a probe tolerance keeps its provider, references resolved, and is judged by running it", async () => {
    const doc = {
      title: "t",
      configuration: { base: { type: "env", key: "BASE" } },
      secrets: { s: { token: { type: "env", key: "TOKEN" } } },
      "steady-state-hypothesis": {
        title: "h",
        probes: [
          {
            type: "probe",
            name: "answer",
            provider: { type: "process", path: "true" },
            tolerance: {
              type: "probe",
              name: "check",
              provider: {
                type: "http",
                url: "${base}/check",
                headers: { Authorization: "Bearer ${token}" },
                arguments: { n: 1 },
              },
            },
          },
        ],
      },
      method: [{ type: "action", name: "a", provider: { type: "process", path: "true" } }],
    };
    const { document, translation } = translateCtk(doc, { add: (_p, m) => expect.fail(m) });
    expect((document["steady-state"] as Obj).probes).toMatchObject([
      {
        tolerance: {
          chaostoolkit: {
            type: "probe",
            provider: {
              url: "${configuration.base}/check",
              headers: { Authorization: "Bearer ${secrets.token}" },
            },
          },
        },
      },
    ]);
    expect(translation.notes).toContainEqual({
      path: ["steady-state", "probes", 0, "tolerance"],
      text: expect.stringMatching(/"check" runs with arguments.value set to this probe's output/),
    });
    const tolerance = load(doc, { env: { ...env, TOKEN: "t0k" } }).steadyState!.probes[0]!.tolerance!;
    const calls: unknown[] = [];
    const judged = await tolerance.judgeWith!(
      { value: 1, fields: { status: 1, stdout: "", stderr: "" } },
      {
        bind: (v) => JSON.parse(JSON.stringify(v).replace("${secrets.token}", "t0k")),
        probe: async (key, args) => {
          calls.push({ key, args });
          return { value: 204, fields: { status: 204 }, summary: "204" };
        },
      },
    );
    expect(judged).toMatchObject({ ok: true, outcome: "pass" });
    expect(calls).toEqual([
      {
        key: "http",
        args: expect.objectContaining({
          url: "http://127.0.0.1:9/check?n=1&value=status&value=stdout&value=stderr",
          headers: { Authorization: "Bearer t0k" },
        }),
      },
    ]);
  });

  test("an unknown ${name} and a missing program are located in the Chaos Toolkit file", () => {
    const found = problems(`title: t
method:
  - type: action
    name: a
    provider: { type: process, path: /no/such/program }
  - type: probe
    name: b
    provider: { type: http, url: "http://h:1/\${nope}" }
`);
    expect(found).toEqual([
      expect.stringMatching(/^exp\.yaml:5:.*\/no\/such\/program cannot be found/),
      expect.stringMatching(/^exp\.yaml:8:.*\$\{nope\} names no configuration value and no secret/),
    ]);
  });
});

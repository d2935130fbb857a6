import { describe, expect, test } from "vitest";
import { httpAgent } from "../agents/http/index.js";
import { processAgent } from "../agents/process/index.js";
import { prometheusAgent } from "../agents/prometheus/index.js";
import { Registry } from "../agents/registry.js";
import { ValidationErrors } from "./errors.js";
import { parseExperiment } from "./load.js";

const registry = new Registry([httpAgent, processAgent, prometheusAgent]);
const env = { BASE: "http://127.0.0.1:9" };

function problems(text: string): string[] {
  try {
    parseExperiment("exp.yaml", text, { registry, env });
  } catch (err) {
    if (err instanceof ValidationErrors) return err.errors.map((e) => e.format());
    throw err;
  }
  return [];
}

const valid = `version: 1
title: t
configuration: { base_url: "\${env:BASE}", wait: 2s }
secrets: { token: { env: API_TOKEN } }
steady-state:
  probes:
    - name: answers
      http: { url: "\${configuration.base_url}/healthz", headers: { Authorization: "Bearer \${secrets.token}" } }
      tolerance: { status: 200 }
  during: { every: 1s }
method:
  - action: process.suspend
    target: { pid-file: /tmp/x.pid }
    duration: \${configuration.wait}
  - pause: 1s
`;

describe("loading an experiment", () => {
  test("steady-state before: { within, every } is read, and every defaults to 1s", () => {
    const withBefore = (before: string) =>
      valid.replace("  during: { every: 1s }", `  before: ${before}\n  during: { every: 1s }`);
    const e = parseExperiment("exp.yaml", withBefore("{ within: 30s, every: 2s }"), { registry, env });
    expect(e.steadyState!.before).toEqual({ withinMs: 30_000, everyMs: 2000 });
    const d = parseExperiment("exp.yaml", withBefore("{ within: 5s }"), { registry, env });
    expect(d.steadyState!.before).toEqual({ withinMs: 5000, everyMs: 1000 });
    expect(parseExperiment("exp.yaml", valid, { registry, env }).steadyState!.before).toBeUndefined();
    expect(problems(withBefore("{ every: 1s }")).join("\n")).toMatch(
      /^exp\.yaml:10:\d+: steady-state\.before: missing required key "within"/m,
    );
    expect(problems(withBefore("{ within: 10 }")).join("\n")).toMatch(
      /^exp\.yaml:10:\d+: steady-state\.before\.within: .*10s/m,
    );
  });

  test("a valid experiment resolves configuration and env but keeps secret references", () => {
    const e = parseExperiment("exp.yaml", valid, { registry, env });
    const probe = e.steadyState!.probes[0]!;
    expect(probe.args.url).toBe("http://127.0.0.1:9/healthz");
    expect(String((probe.args.headers as Record<string, string>).Authorization)).toBe(
      "Bearer ${secrets.token}",
    );
    expect(e.method[0]).toMatchObject({
      kind: "action",
      agent: "process",
      action: "suspend",
      durationMs: 2000,
    });
    expect(e.method[1]).toMatchObject({ kind: "pause", ms: 1000 });
    expect(e.steadyState!.during).toEqual({ everyMs: 1000, failFast: false });
  });

  test("every problem is reported at once, each at its line and column", () => {
    const text = `version: 1
title: t
steady-state:
  probes:
    - name: a
      http: { url: "http://127.0.0.1:9" }
      tolerence: { status: 200 }
method:
  - action: process.suspnd
    target: { pid-file: /tmp/x }
  - pause: 5 seconds
`;
    const out = problems(text);
    expect(out).toEqual([
      expect.stringMatching(/^exp\.yaml:5:7: steady-state\.probes\[0\]: probe "a" needs a tolerance/),
      'exp.yaml:7:7: steady-state.probes[0].tolerence: unknown key "tolerence" (did you mean "tolerance"?)',
      'exp.yaml:9:13: method[0].action: unknown action "process.suspnd" (did you mean "process.suspend"?)',
      expect.stringMatching(
        /^exp\.yaml:11:12: method\[1\]\.pause: "5 seconds" has the wrong form \(a duration with a unit: 300ms/,
      ),
    ]);
    expect(out.join("\n")).toMatch(/exp\.yaml:7:7: .*"tolerence".*did you mean "tolerance"/);
  });

  test("an action's own arguments are checked against its schema", () => {
    const out = problems(`version: 1
title: t
method:
  - action: process.kill
    target: { pid-file: /tmp/x }
    args: { signal: 9, force: true }
`);
    expect(out.join("\n")).toMatch(/exp\.yaml:6:\d+: method\[0\]\.args\.force: unknown key "force"/);
    expect(out.join("\n")).toMatch(
      /exp\.yaml:6:21: method\[0\]\.args\.signal: 9 is not allowed \(use one of: "SIGHUP"/,
    );
  });

  test("unknown keys anywhere get a did-you-mean hint", () => {
    const out = problems(`version: 1
title: t
methd: []
method: [{ pause: 1s }]
`);
    expect(out).toEqual(['exp.yaml:3:1: methd: unknown key "methd" (did you mean "method"?)']);
  });

  test("YAML syntax errors carry their position", () => {
    const out = problems("version: 1\ntitle: [unclosed\nmethod: []\n");
    expect(out[0]).toMatch(/^exp\.yaml:\d+:\d+: YAML syntax error/);
  });

  test("references to unknown configuration, secrets or unset env vars are errors", () => {
    const out = problems(`version: 1
title: t
method:
  - action: process.kill
    target: { pid-file: "\${configuration.nope}" }
  - action: process.kill
    target: { pid-file: "\${secrets.nope}" }
  - action: process.kill
    target: { pid-file: "\${env:SURELY_NOT_SET_ANYWHERE}" }
`).join("\n");
    expect(out).toMatch(/exp\.yaml:5:\d+: .*unknown configuration value "nope"/);
    expect(out).toMatch(/exp\.yaml:7:\d+: .*unknown secret "nope"/);
    expect(out).toMatch(
      /exp\.yaml:9:\d+: .*environment variable SURELY_NOT_SET_ANYWHERE is not set \(set it, or give a default|SURELY_NOT_SET_ANYWHERE/,
    );
  });

  test("env references fall back to their default", () => {
    const e = parseExperiment(
      "exp.yaml",
      `version: 1
title: t
method:
  - action: process.kill
    target: { pid-file: "\${env:SURELY_NOT_SET_ANYWHERE:-/tmp/d.pid}" }
`,
      { registry, env: {} },
    );
    expect(e.method[0]).toMatchObject({ target: { "pid-file": "/tmp/d.pid" } });
  });

  test("a steady-state probe needs a tolerance and a stop condition needs when", () => {
    const out = problems(`version: 1
title: t
steady-state:
  probes:
    - name: a
      http: { url: "http://127.0.0.1:9" }
stop-when:
  - name: s
    probe: { http: { url: "http://127.0.0.1:9" } }
method: [{ pause: 1s }]
`).join("\n");
    expect(out).toMatch(/exp\.yaml:5:7: .*probe "a" needs a tolerance/);
    expect(out).toMatch(/exp\.yaml:8:\d+: .*missing required key "when"/);
  });

  test("a PromQL syntax error points at its line and column, also inside a block scalar", () => {
    const out = problems(`version: 1
title: t
steady-state:
  probes:
    - name: block
      prometheus:
        query: |
          sum(rate(http_requests_total[1m]))
            / sum(rate(foo[1m]) ))
      tolerance: "< 1"
method: [{ pause: 1s }]
`);
    expect(out).toEqual([
      expect.stringMatching(
        /^exp\.yaml:9:34: steady-state\.probes\[0\]\.prometheus\.query: PromQL syntax error near '\)'/,
      ),
    ]);
  });

  test("durations without a unit, beyond 24h, or zero-length intervals are rejected where they are written", () => {
    const out = problems(`version: 1
title: t
steady-state:
  probes:
    - name: up
      process: { pid: 1 }
      tolerance: true
  during: { every: 0 }
stop-when:
  - name: s
    probe: { process: { pid: 1 } }
    when: false
    every: 0s
method:
  - pause: 1e400
  - action: process.suspend
    target: { pid: 1 }
    duration: 1000h
    timeout: 700h
`);
    expect(out).toEqual([
      "exp.yaml:8:20: steady-state.during.every: 0 has no unit (a duration needs a unit: write 0s or 0ms)",
      "exp.yaml:13:12: stop-when[0].every: an interval must be at least 1ms (e.g. 1s)",
      "exp.yaml:15:12: method[0].pause: Infinity has no unit (a duration needs a unit: write 10s or 10ms)",
      "exp.yaml:18:15: method[1].duration: 1000h is longer than the longest duration, 24h (write at most 24h)",
      "exp.yaml:19:14: method[1].timeout: 700h is longer than the longest duration, 24h (write at most 24h)",
    ]);
  });
});

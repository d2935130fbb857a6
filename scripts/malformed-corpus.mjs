#!/usr/bin/env node
/**
 * Writes test/fixtures/malformed/generated/*.yaml: one valid experiment with one value broken per file, each
 * headed by the `# expect: line:col text` its test checks. Every case is run through the loader first, and a
 * case whose problem is not reported where and as stated stops the script: the corpus only states what the
 * loader was seen to do. Run after `npm run build`: node scripts/malformed-corpus.mjs
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const { parseExperiment } = await import(join(ROOT, "dist/src/experiments/load.js"));
const { defaultRegistry } = await import(join(ROOT, "dist/src/agents/index.js"));
const OUT = join(ROOT, "test/fixtures/malformed/generated");

const BASE = `version: 1
title: corpus base
configuration:
  prometheus: { url: "http://127.0.0.1:9090", timeout: 2s }
steady-state:
  probes:
    - name: api
      http: { url: "http://127.0.0.1:9/health", timeout: 1s }
      timeout: 2s
      tolerance: { status: 200 }
  during: { every: 1s }
  after: { within: 5s, every: 1s }
stop-when:
  - name: errors
    probe: { prometheus: { query: "up", timeout: 1s } }
    when: "> 0"
    every: 1s
method:
  - action: process.suspend
    target: { pid-file: /tmp/x.pid }
    duration: 1s
    timeout: 5s
  - pause: 1s
`.split("\n");

/** Where a duration can go: the base line it replaces, and its kind. */
const DURATION_SLOTS = [
  ["pause", 22, "  - pause: @@", "length"],
  ["action-duration", 20, "    duration: @@", "length"],
  ["action-timeout", 21, "    timeout: @@", "timeout"],
  ["during-every", 10, "  during: { every: @@ }", "interval"],
  ["after-within", 11, "  after: { within: @@, every: 1s }", "length"],
  ["after-every", 11, "  after: { within: 5s, every: @@ }", "interval"],
  ["stop-every", 16, "    every: @@", "interval"],
  ["probe-timeout", 8, "      timeout: @@", "timeout"],
  ["http-timeout", 7, '      http: { url: "http://127.0.0.1:9/health", timeout: @@ }', "timeout"],
  ["prometheus-timeout", 3, '  prometheus: { url: "http://127.0.0.1:9090", timeout: @@ }', "timeout"],
  ["promql-timeout", 14, '    probe: { prometheus: { query: "up", timeout: @@ } }', "timeout"],
];
const BAD_DURATIONS = [
  ["bare-10", "10", "10 has no unit"],
  ["bare-0", "0", "0 has no unit"],
  ["negative", "-5", "-5 has no unit"],
  ["infinity", ".inf", "Infinity has no unit"],
  ["huge", "99999999999h", "is longer than the longest duration, 24h"],
  ["over-a-day", "25h", "25h is longer than the longest duration, 24h"],
  ["words", "5 seconds", "has the wrong form"],
  ["two-dots", "1.5.2s", "has the wrong form"],
  ["upper-unit", "10S", "has the wrong form"],
  ["boolean", "true", "expected string, got boolean"],
  ["list", "[1s]", "expected string, got a list"],
  ["mapping", "{ a: 1 }", "expected string, got a mapping"],
];
const BAD_PERIODS = [
  ["zero-ms", "0ms", "must be at least 1ms"],
  ["microsecond", "1us", "must be at least 1ms"],
  ["half-ms", "0.5ms", "must be at least 1ms"],
];

/** Other single-line breakages: base line, replacement, expected text (col: where @@ was, or `at`). */
const OTHERS = [
  ["version-2", 0, "version: @@", "2", "must be 1, got 2"],
  ["version-string", 0, "version: @@", '"1"', "must be 1"],
  ["version-list", 0, "version: @@", "[1]", "must be 1"],
  ["title-number", 1, "title: @@", "12", "expected string, got number 12"],
  ["title-empty", 1, "title: @@", '""', "must not be empty"],
  ["title-list", 1, "title: @@", "[a, b]", "expected string, got a list"],
  ["prometheus-url-ftp", 3, "  prometheus: { url: @@, timeout: 2s }", '"ftp://x"', "has the wrong form"],
  [
    "prometheus-url-number",
    3,
    "  prometheus: { url: @@, timeout: 2s }",
    "8080",
    "expected string, got number 8080",
  ],
  [
    "prometheus-retries-big",
    3,
    '  prometheus: { url: "http://127.0.0.1:9090", retries: @@ }',
    "99",
    "must be <= 10",
  ],
  [
    "prometheus-unknown-key",
    3,
    '  prometheus: { url: "http://127.0.0.1:9090", @@: 1 }',
    "tmeout",
    'unknown key "tmeout"',
  ],
  ["probe-name-number", 6, "    - name: @@", "[x]", "expected string, got a list"],
  ["http-url-relative", 7, "      http: { url: @@, timeout: 1s }", '"/health"', "has the wrong form"],
  ["http-url-ftp", 7, "      http: { url: @@, timeout: 1s }", '"ftp://h/x"', "has the wrong form"],
  ["http-url-number", 7, "      http: { url: @@, timeout: 1s }", "80", "expected string, got number 80"],
  ["http-method-bad", 7, '      http: { url: "http://h/x", method: @@ }', "FETCH", '"FETCH" is not allowed'],
  [
    "http-headers-list",
    7,
    '      http: { url: "http://h/x", headers: @@ }',
    "[a]",
    "expected object, got a list",
  ],
  [
    "http-header-number",
    7,
    '      http: { url: "http://h/x", headers: { X-A: @@ } }',
    "1",
    "expected string, got number 1",
  ],
  ["http-json-path", 7, '      http: { url: "http://h/x", json-path: @@ }', '"a.b"', "has the wrong form"],
  ["http-body-max-zero", 7, '      http: { url: "http://h/x", expect-body-max: @@ }', "0", "must be >= 1"],
  ["http-insecure-string", 7, '      http: { url: "http://h/x", insecure: @@ }', '"yes"', "expected boolean"],
  ["http-unknown-arg", 7, '      http: { url: "http://h/x", @@: 1s }', "timout", 'unknown key "timout"'],
  ["status-string", 9, "      tolerance: { status: @@ }", '"ok"', "status"],
  ["latency-bare-number", 9, "      tolerance: { latency: @@ }", '"< 300"', "bad latency bound"],
  ["latency-words", 9, "      tolerance: { latency: @@ }", '"< fast"', "bad latency bound"],
  ["tolerance-unknown-field", 9, "      tolerance: { @@: 200 }", "statuz", 'did you mean "status"'],
  ["tolerance-empty-range", 9, "      tolerance: @@", "[3, 1]", "range [3, 1] is empty"],
  ["tolerance-three-numbers", 9, "      tolerance: @@", "[1, 2, 3]", ""],
  ["during-fail-fast-string", 10, "  during: { every: 1s, fail-fast: @@ }", '"yes"', "expected boolean"],
  ["during-unknown-key", 10, "  during: { every: 1s, @@: true }", "failfast", 'unknown key "failfast"'],
  ["after-unknown-key", 11, "  after: { within: 5s, @@: 1s }", "evry", 'unknown key "evry"'],
  ["stop-name-list", 13, "  - name: @@", "[a]", "expected string, got a list"],
  ["promql-syntax", 14, "    probe: { prometheus: { query: @@ } }", '"sum(up"', "PromQL syntax error", null],
  ["promql-empty", 14, "    probe: { prometheus: { query: @@ } }", '""', "must not be empty"],
  [
    "promql-series-rule",
    14,
    '    probe: { prometheus: { query: "up", series: @@ } }',
    "median",
    '"median" is not allowed',
  ],
  [
    "promql-aggregate",
    14,
    '    probe: { prometheus: { query: "up", range: 1m, aggregate: @@ } }',
    "mean",
    '"mean" is not allowed',
  ],
  ["when-comparison-words", 15, "    when: @@", '"> many"', "not a number"],
  ["action-typo", 18, "  - action: @@", "process.suspnd", 'did you mean "process.suspend"'],
  ["action-unknown-agent", 18, "  - action: @@", "kubectl.delete", 'unknown action "kubectl.delete"'],
  ["action-no-dot", 18, "  - action: @@", "suspend", "has the wrong form"],
  ["target-unknown-key", 19, "    target: { @@: /tmp/x.pid }", "pidfile", 'unknown key "pidfile"'],
  ["target-port-zero", 19, "    target: { port: @@ }", "0", "must be >= 1"],
  ["target-port-big", 19, "    target: { port: @@ }", "70000", "must be <= 65535"],
  ["target-pid-string", 19, "    target: { pid: @@ }", '"one"', "expected integer"],
  ["target-name-regex", 19, "    target: { name: @@ }", '"[a-"', "is not a valid regular expression"],
  ["target-name-paren", 19, "    target: { name: @@ }", '"(x"', "is not a valid regular expression"],
  ["target-name-empty", 19, "    target: { name: @@ }", '""', "must not be empty"],
  [
    "select-count-missing",
    19,
    "    target: { port: 80, select: @@ }",
    "{ mode: count }",
    'missing required key "count"',
  ],
  [
    "select-percent-missing",
    19,
    "    target: { port: 80, select: @@ }",
    "{ mode: percent }",
    'missing required key "percent"',
  ],
  ["select-mode-bad", 19, "    target: { port: 80, select: { mode: @@ } }", "some", '"some" is not allowed'],
  [
    "select-percent-over",
    19,
    "    target: { port: 80, select: { mode: percent, percent: @@ } }",
    "150",
    "must be <= 100",
  ],
  [
    "select-count-zero",
    19,
    "    target: { port: 80, select: { mode: count, count: @@ } }",
    "0",
    "must be >= 1",
  ],
  ["pause-with-target", 22, "  - pause: 1s\n    target: @@", "{ pid: 1 }", 'unknown key "target"', 5, 24],
  [
    "env-unset",
    6,
    "    - name: @@",
    '"${env:CHAOS_CORPUS_SURELY_UNSET}"',
    "environment variable CHAOS_CORPUS_SURELY_UNSET is not set",
  ],
  ["secret-unknown", 6, "    - name: @@", '"${secrets.nope}"', 'unknown secret "nope"'],
  [
    "configuration-unknown",
    6,
    "    - name: @@",
    '"${configuration.nope}"',
    'unknown configuration value "nope"',
  ],
  ["reference-nonsense", 6, "    - name: @@", '"${whatever}"', "cannot resolve"],
  [
    "configuration-to-configuration",
    3,
    "  prometheus: { url: @@ }",
    '"${configuration.base}/x"',
    "cannot refer to another configuration value",
  ],
  ["env-empty-name", 6, "    - name: @@", '"${env:}"', "cannot resolve"],
];

/** YAML-level breakages: the whole line, the expected line (1-based in the file body) and text. */
const YAML_CASES = [
  ["tab-indent", 22, "\t- pause: 1s", "YAML syntax error"],
  ["unclosed-quote", 1, 'title: "corpus base', "YAML syntax error"],
  ["unclosed-flow", 7, '      http: { url: "http://127.0.0.1:9/health", timeout: 1s', "YAML syntax error", 9],
  ["unclosed-list", 22, "  - pause: [1s", "YAML syntax error", 24],
  ["value-after-value", 1, "title: a: b", "YAML syntax error"],
  ["duplicate-top-key", 1, "title: corpus base\ntitle: again", 'duplicate key "title"', 3],
  ["duplicate-step-key", 20, "    duration: 1s\n    duration: 2s", 'duplicate key "duration"', 22],
  ["duplicate-flow-key", 7, '      http: { url: "http://h/x", url: "http://h/y" }', 'duplicate key "url"'],
  ["alias-undefined", 1, "title: *nothing", "has no anchor"],
  ["alias-recursive", 22, "  - &step { pause: [*step] }", "inside the node it refers to"],
  ["bad-indent-dedent", 8, "     timeout: 2s", "YAML syntax error"],
  ["two-documents", 22, "  - pause: 1s\n---\nversion: 1", "YAML syntax error", 24],
  ["block-scalar-bad-indent", 1, "title: |\nno indent", "YAML syntax error", 3],
  ["anchor-on-nothing", 1, "title: &a", ""],
];

const registry = defaultRegistry();

/** The loader's `line:col: message` lines for a text, or [] when it is valid. */
function problems(name, text) {
  try {
    parseExperiment(`${name}.yaml`, text, { registry, env: {} });
    return [];
  } catch (err) {
    if (!err.errors) return [`?:0:0: ${err.message}`];
    return err.errors.map(
      (e) => `${e.location.line}:${e.location.col}: ${e.message}${e.hint ? ` (${e.hint})` : ""}`,
    );
  }
}

const cases = [];
function add(name, lineIndex, replacement, value, text, col, bodyLine) {
  const lines = [...BASE];
  const at = replacement.indexOf("@@");
  lines[lineIndex] = value === undefined ? replacement : replacement.replace("@@", value);
  cases.push({
    name,
    body: lines.join("\n"),
    line: (bodyLine ?? lineIndex + 1) - 1,
    col: col === undefined ? at + 1 : col,
    text,
  });
}
for (const [slot, line, template, kind] of DURATION_SLOTS) {
  for (const [bad, value, text] of BAD_DURATIONS) add(`duration-${slot}-${bad}`, line, template, value, text);
  if (kind !== "length")
    for (const [bad, value, text] of BAD_PERIODS) add(`duration-${slot}-${bad}`, line, template, value, text);
}
for (const [name, line, template, value, text, col, bodyLine] of OTHERS)
  add(name, line, template, value, text, col, bodyLine);
for (const [name, line, replacement, text, bodyLine] of YAML_CASES)
  add(`yaml-${name}`, line, replacement, undefined, text, null, bodyLine);

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const failures = [];
for (const c of cases) {
  // The header comment adds one line per expectation, so line numbers are known only once it is written.
  const header = 1;
  const found = problems(c.name, c.body).map((p) => {
    const [line, col, ...rest] = p.split(":");
    return { line: Number(line) + header, col: Number(col), message: rest.join(":").trim() };
  });
  const line = c.line + 1 + header;
  const match = found.find(
    (p) => p.line === line && (c.col === null || p.col === c.col) && p.message.includes(c.text),
  );
  if (!match) {
    failures.push(
      `${c.name}: expected ${line}:${c.col ?? "?"} "${c.text}", found\n  ${found.map((p) => `${p.line}:${p.col}: ${p.message}`).join("\n  ") || "(valid)"}`,
    );
    continue;
  }
  const text = c.text || match.message.slice(0, 40);
  writeFileSync(join(OUT, `${c.name}.yaml`), `# expect: ${match.line}:${match.col} ${text}\n${c.body}`);
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exitCode = 1;
}
console.log(
  `${readdirSync(OUT).length} fixtures written to ${OUT} (${failures.length} cases did not behave as stated)`,
);

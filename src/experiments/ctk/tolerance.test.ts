import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { testContext } from "../../../test/support/agent-context.js";
import { httpAgent } from "../../agents/http/index.js";
import { processAgent } from "../../agents/process/index.js";
import { withDeadline } from "../clock.js";
import type { JudgeContext } from "../tolerance.js";
import { type CtkToleranceOptions, checkCtkTolerance, ctkTolerance, withinTolerance } from "./tolerance.js";

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

  test("a probe tolerance runs its provider with the value (test_tolerance_with_a_probe)", async () => {
    // fixtures/probes.py must_be_in_range(a, b, value) raises ActivityFailed unless a < body < b; a process
    // provider fails only by not returning, so the same rule times out instead of answering.
    const t = {
      type: "probe",
      name: "must-be-in-range",
      provider: {
        type: "process",
        path: "sh",
        timeout: 0.3,
        arguments: {
          "-c": `b=$(printf %s "$5" | sed -n "s/.*'body': '\\([0-9]*\\)'.*/\\1/p"); [ "$1" -lt "$b" ] && [ "$b" -lt "$3" ] || exec sleep 5`,
          a: 6,
          b: 8,
        },
      },
    };
    expect(checkCtkTolerance(t)).toEqual([]);
    expect((await judgeWith(t, text("9"))).ok).toBe(false);
    expect((await judgeWith(t, text("7"))).ok).toBe(true);
  });
});

const ctx: JudgeContext = {
  bind: (v) => v,
  probe: (key, args, label, timeoutMs) => {
    const probe = { "process.exec": processAgent.probes.exec, http: httpAgent.probes.request }[key];
    if (!probe) throw new Error(`no probe ${key}`);
    const deadline = new AbortController();
    return withDeadline(label, timeoutMs, deadline, () =>
      probe.run(args, testContext({ signal: deadline.signal })),
    );
  },
};

/** Judges a probe whose output Chaos Toolkit sees as `output` (an HTTP answer or a process's). */
async function judgeWith(t: unknown, output: Record<string, unknown>, opts: CtkToleranceOptions = {}) {
  const fields =
    "stdout" in output
      ? output
      : {
          status: output.status,
          headers: output.headers,
          text: typeof output.body === "string" ? output.body : JSON.stringify(output.body),
        };
  const tol = ctkTolerance(t, opts);
  expect(tol.judgeWith).toBeDefined();
  return tol.judgeWith!({ value: output.status, fields }, ctx);
}

describe("Chaos Toolkit probe tolerances (chaoslib/hypothesis.py, provider/process.py, provider/http.py)", () => {
  let dir: string;
  let server: http.Server;
  let base: string;
  const seen: { method?: string; url?: string; body: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ctk-probe-tol-"));
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, body });
        res.writeHead(req.url?.startsWith("/broken") ? 500 : 200).end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const argvFile = () => join(dir, `argv-${Math.random().toString(36).slice(2)}`);
  const recorder = (file: string, extra: Record<string, unknown> = {}) => ({
    type: "probe",
    name: "record",
    provider: {
      type: "process",
      path: "sh",
      timeout: 5,
      arguments: { "-c": `for a in "$0" "$@"; do printf '%s\\0' "$a"; done > ${file}; exit 7`, ...extra },
    },
  });

  test("a process gets `value` and Python's str() of the output, after its other arguments", async () => {
    const file = argvFile();
    const j = await judgeWith(recorder(file, { "--empty": "", "--n": 1 }), {
      status: 200,
      headers: { "Content-Type": "text/plain" },
      body: "it's\n",
    });
    // Exit status 7: Chaos Toolkit's process provider returns a mapping, which is truthy, so it is met.
    expect(j).toMatchObject({ ok: true, outcome: "pass" });
    expect(j.reason).toMatch(/tolerance probe "record" returned \(exit 7\)/);
    // sh -c script $0 $1…: the empty "--empty" is left out as Chaos Toolkit does, its name stays.
    expect(readFileSync(file, "utf8").split("\0").slice(0, -1)).toEqual([
      "--empty",
      "--n",
      "1",
      "value",
      `{'status': 200, 'headers': {'Content-Type': 'text/plain'}, 'body': "it's\\n"}`,
    ]);
  });

  test("an existing `value` argument is replaced where it stands", async () => {
    const file = argvFile();
    await judgeWith(recorder(file, { value: "old", after: "x" }), { status: 0, stdout: "42\n", stderr: "" });
    expect(readFileSync(file, "utf8").split("\0").slice(0, -1)).toEqual([
      "value",
      "{'status': 0, 'stdout': '42\\n', 'stderr': ''}",
      "after",
      "x",
    ]);
  });

  test("HTTP: GET sends the output's keys in the query, JSON sends it whole, a form its keys", async () => {
    const output = { status: 201, headers: { "Content-Type": "text/plain" }, body: "done" };
    const call = (provider: Record<string, unknown>) =>
      judgeWith({ type: "probe", name: "web", provider: { type: "http", timeout: 5, ...provider } }, output);
    seen.length = 0;
    expect((await call({ url: `${base}/get`, arguments: { q: "a b" } })).ok).toBe(true);
    expect(
      (
        await call({
          url: `${base}/json`,
          method: "post",
          headers: { "Content-Type": "application/json" },
          arguments: { a: 1 },
        })
      ).ok,
    ).toBe(true);
    expect((await call({ url: `${base}/form`, method: "PUT", arguments: {} })).ok).toBe(true);
    expect(seen).toEqual([
      { method: "GET", url: "/get?q=a%20b&value=status&value=headers&value=body", body: "" },
      { method: "POST", url: "/json", body: JSON.stringify({ a: 1, value: output }) },
      { method: "PUT", url: "/form", body: "value=status&value=headers&value=body" },
    ]);
  });

  test("any answer is met, even a 500; no answer, a timeout or expected_status missed is not", async () => {
    const output = { status: 200, headers: {}, body: "x" };
    const probe = (provider: Record<string, unknown>) => ({
      type: "probe",
      name: "p",
      provider: { arguments: {}, timeout: 2, ...provider },
    });
    expect((await judgeWith(probe({ type: "http", url: `${base}/broken` }), output)).ok).toBe(true);
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await judgeWith(probe({ type: "http", url: `http://127.0.0.1:${port}/` }), output);
    expect(refused).toMatchObject({ ok: false, outcome: "fail" });
    expect(refused.reason).toMatch(/tolerance probe "p" did not return/);
    const slow = probe({ type: "process", path: "sh", timeout: 0.2, arguments: { "-c": "exec sleep 5" } });
    expect((await judgeWith(slow, output)).ok).toBe(false);
    const expected = probe({ type: "http", url: `${base}/broken`, expected_status: 200 });
    expect((await judgeWith(expected, output)).reason).toMatch(/status 500 is not the expected 200/);
    // A safeguard's stop condition (`chaostoolkit-unmet`) holds, and stops the run, when the tolerance probe
    // cannot answer.
    const unmet = await judgeWith(probe({ type: "http", url: `http://127.0.0.1:${port}/` }), output, {
      unmet: true,
    });
    expect(unmet.ok).toBe(true);
  });

  test("what Chaos Toolkit cannot run is refused, each at its place", () => {
    const problems = (provider: unknown, extra: Record<string, unknown> = {}) =>
      checkCtkTolerance({ type: "probe", name: "p", provider, ...extra });
    expect(problems({ type: "python", module: "chaosk8s.pod.probes", func: "pods_in_phase" })).toEqual([
      expect.objectContaining({
        path: ["provider"],
        message: expect.stringMatching(/python provider chaosk8s.pod.probes.pods_in_phase .* value=/),
      }),
    ]);
    // chaoslib sets provider["arguments"]["value"]: without a mapping there it raises.
    expect(problems({ type: "http", url: base })).toEqual([
      expect.objectContaining({
        path: ["provider"],
        message: expect.stringMatching(/needs provider.arguments/),
      }),
    ]);
    expect(problems({ type: "process", path: "sh", arguments: ["-c", "true"] })[0]?.path).toEqual([
      "provider",
      "arguments",
    ]);
    expect(problems({ type: "process", path: "/no/such/program", arguments: {} })).toEqual([
      expect.objectContaining({
        path: ["provider", "path"],
        message: expect.stringMatching(/cannot be found/),
      }),
    ]);
    expect(problems({ type: "http", arguments: {} })[0]).toMatchObject({
      path: ["provider", "url"],
      message: "an http provider must have a url",
    });
    expect(
      checkCtkTolerance({ type: "probe", provider: { type: "http", url: base, arguments: {} } }),
    ).toEqual([expect.objectContaining({ message: "a probe tolerance must have a name" })]);
    expect(problems({ type: "ftp", arguments: {} })[0]?.message).toMatch(/unknown provider type "ftp"/);
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

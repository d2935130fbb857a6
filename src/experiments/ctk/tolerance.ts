import type { ProbeResult } from "../../contract/agent.js";
import type { JudgeContext, Judgement, Tolerance } from "../tolerance.js";
import { CtkJsonPathError, compileJsonPath } from "./json-path.js";
import { checkProbeTolerance, withinProbeTolerance } from "./probe-tolerance.js";
import { CtkFailed, type CtkShape, ctkOutput } from "./shapes.js";

/**
 * Chaos Toolkit's tolerances with its exact semantics (chaoslib/hypothesis.py, `within_tolerance` and
 * `ensure_hypothesis_tolerance_is_valid`). A tolerance judges a provider's whole output: for `http`
 * `{status, headers, body}`, for `process` `{status, stdout, stderr}`, for anything else the value.
 *
 *   true / "text"     output == tolerance (Python equality: 1 == true)
 *   6                 output.status == 6 when the output has a status, else output == 6
 *   [5, 6]            output.status in the list when it has a status; else with two items lo <= v <= hi;
 *                     else v in the list
 *   {type: regex, pattern, target?}                   re.search on output[target] (or the output)
 *   {type: jsonpath, path, target?, expect?, count?}  values found; any / == count / == [expect] / == expect
 *   {type: range, range: [lo, hi], target?}           Decimal(v) within [lo, hi]
 *   {type: probe, name, provider}                     the provider, run with arguments.value = output,
 *                                                     returns (probe-tolerance.ts)
 * Where Chaos Toolkit itself would crash (a regex on a non-text), the tolerance is not met.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

export interface CtkToleranceProblem {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** Python's `==` on JSON-like data: booleans equal 1 and 0, ints equal floats. */
export function pyEquals(a: unknown, b: unknown): boolean {
  const num = (v: unknown) => (typeof v === "boolean" ? Number(v) : v);
  const x = num(a);
  const y = num(b);
  if (typeof x === "number" || typeof y === "number") return x === y;
  if (Array.isArray(x) || Array.isArray(y)) {
    return (
      Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, i) => pyEquals(v, y[i]))
    );
  }
  if (isObj(x) && isObj(y)) {
    const kx = Object.keys(x);
    return kx.length === Object.keys(y).length && kx.every((k) => k in y && pyEquals(x[k], y[k]));
  }
  return x === y || (x == null && y == null);
}

/** Python's ordering for `lo <= v <= hi`; mixed or unordered types raise in Python. */
function pyLessEq(a: unknown, b: unknown): boolean {
  const num = (v: unknown) => (typeof v === "boolean" ? Number(v) : v);
  const x = num(a);
  const y = num(b);
  if (typeof x === "number" && typeof y === "number") return x <= y;
  if (typeof x === "string" && typeof y === "string") return x <= y;
  throw new TypeError(`'<=' not supported between ${typeof a} and ${typeof b}`);
}

/** Python's `Decimal(value)`, or undefined where Python raises. */
function decimal(v: unknown): number | undefined {
  if (typeof v === "boolean") return Number(v);
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const t = v.trim().replace(/_/g, "");
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (/^[-+]?(inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  return undefined;
}

function targetOf(t: Obj, value: unknown): unknown {
  const target = t.target;
  if (!target) return value;
  if (!isObj(value)) throw new TypeError(`the output has no "${String(target)}" (it is not a mapping)`);
  return Object.hasOwn(value, String(target)) ? value[String(target)] : value;
}

/**
 * Every problem Chaos Toolkit's validation would raise for this tolerance, with its path inside it; for a
 * `probe` tolerance also what keeps it from running here (see probe-tolerance.ts).
 */
export function checkCtkTolerance(t: unknown): CtkToleranceProblem[] {
  const hint =
    "an integer, a string, a boolean, a list, or a mapping with type: regex, jsonpath, range or probe (see chaoslib/hypothesis.py)";
  if (typeof t === "number" && !Number.isInteger(t))
    return [{ path: [], message: `tolerance ${t} is not an integer`, hint }];
  if (!["boolean", "number", "string"].includes(typeof t) && !Array.isArray(t) && !isObj(t))
    return [{ path: [], message: `a tolerance cannot be ${t === null ? "null" : typeof t}`, hint }];
  if (!isObj(t)) return [];
  switch (t.type) {
    case "regex": {
      if (!("pattern" in t))
        return [
          { path: [], message: "a regex tolerance must have a `pattern` key", hint: 'add pattern: "…"' },
        ];
      if (typeof t.pattern !== "string")
        return [
          {
            path: ["pattern"],
            message: `tolerance pattern ${JSON.stringify(t.pattern)} has an invalid type`,
          },
        ];
      try {
        new RegExp(t.pattern);
      } catch (err) {
        return [
          {
            path: ["pattern"],
            message: `tolerance pattern ${t.pattern} seems invalid: ${(err as Error).message}`,
          },
        ];
      }
      return [];
    }
    case "jsonpath": {
      if (!("path" in t))
        return [
          { path: [], message: "a jsonpath tolerance must have a `path` key", hint: 'add path: "$.…"' },
        ];
      if (typeof t.path !== "string")
        return [
          { path: ["path"], message: `tolerance JSON path ${JSON.stringify(t.path)} has an invalid type` },
        ];
      if (t.path.trim() === "") return [{ path: ["path"], message: "tolerance JSON path cannot be empty" }];
      try {
        compileJsonPath(t.path.trim());
      } catch (err) {
        if (!(err instanceof CtkJsonPathError)) throw err;
        return [
          { path: ["path"], message: err.message, hint: "e.g. $.items[*].status or $.foo[?(@.bar = 1)]" },
        ];
      }
      if (t.count !== undefined && !Number.isInteger(t.count))
        return [{ path: ["count"], message: "count must be an integer" }];
      return [];
    }
    case "range": {
      if (!("range" in t))
        return [
          { path: [], message: "a range tolerance must have a `range` key", hint: "add range: [low, high]" },
        ];
      const r = t.range;
      if (!Array.isArray(r)) return [{ path: ["range"], message: "range must be a sequence" }];
      if (r.length !== 2) return [{ path: ["range"], message: "range sequence must be made of two values" }];
      if (typeof r[0] !== "number")
        return [{ path: ["range", 0], message: "range lower boundary must be a number" }];
      if (typeof r[1] !== "number")
        return [{ path: ["range", 1], message: "range upper boundary must be a number" }];
      return [];
    }
    case "probe":
      return checkProbeTolerance(t);
    default:
      return [
        {
          path: ["type"],
          message: `tolerance type '${String(t.type)}' is unsupported`,
          hint: "one of regex, jsonpath, range or probe",
        },
      ];
  }
}

/**
 * `within_tolerance` of chaoslib/hypothesis.py, but for a probe tolerance (`withinProbeTolerance`, which
 * runs a provider). The tolerance must have passed `checkCtkTolerance`.
 * @throws TypeError where Chaos Toolkit itself raises (e.g. a regex on a mapping).
 */
export function withinTolerance(t: unknown, value: unknown): boolean {
  if (typeof t === "boolean" || typeof t === "string") return pyEquals(value, t);
  if (typeof t === "number") {
    if (isObj(value) && "status" in value) return pyEquals(value.status, t);
    return pyEquals(value, t);
  }
  if (Array.isArray(t)) {
    if (isObj(value) && "status" in value) return t.some((x) => pyEquals(x, value.status));
    if (t.length === 2) return pyLessEq(t[0], value) && pyLessEq(value, t[1]);
    return t.some((x) => pyEquals(x, value));
  }
  if (!isObj(t)) return false;
  if (t.type === "regex") {
    const v = targetOf(t, value);
    if (typeof v !== "string") throw new TypeError("a regex needs a text to search");
    return new RegExp(String(t.pattern)).test(v);
  }
  if (t.type === "jsonpath") {
    let v = targetOf(t, value);
    if (typeof v === "string") {
      try {
        v = JSON.parse(v);
      } catch {
        // Chaos Toolkit keeps the text when it is not JSON.
      }
    }
    const values = compileJsonPath(String(t.path).trim())(v);
    let result = values.length > 0;
    if (t.count !== undefined && t.count !== null) result = values.length === t.count;
    if ("expect" in t) result = pyEquals(values, Array.isArray(t.expect) ? t.expect : [t.expect]);
    return result;
  }
  if (t.type === "range") {
    const v = decimal(targetOf(t, value));
    if (v === undefined) return false;
    const [lo, hi] = t.range as [number, number];
    return lo <= v && v <= hi;
  }
  return false;
}

export interface CtkToleranceOptions {
  /** Holds when the tolerance is not met (a safeguard: its stop condition is met when the probe fails). */
  unmet?: boolean;
  /** Chaos Toolkit's `expected_status` of an http provider: another status fails the probe. */
  expectedStatus?: number;
  /** Rebuild the probe's result as the extension's function returns it (see shapes.ts). */
  shape?: CtkShape;
}

function shortText(t: unknown): string {
  const s = JSON.stringify(t) ?? String(t);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A Tolerance judging the rebuilt output with Chaos Toolkit's rules. */
export function ctkTolerance(t: unknown, opts: CtkToleranceOptions = {}): Tolerance {
  const text = `${opts.unmet ? "chaostoolkit-unmet" : "chaostoolkit"}: ${shortText(t)}`;
  const verdict = (met: boolean, reason: string): Judgement => {
    const ok = opts.unmet ? !met : met;
    return { outcome: ok ? "pass" : "fail", ok, reason };
  };
  /** The output as Chaos Toolkit's tolerance sees it, or the verdict when the probe itself failed. */
  const outputOf = (result: ProbeResult): { output: unknown } | Judgement => {
    const output = ctkOutput(result, opts.shape);
    if (output instanceof CtkFailed) return verdict(false, `the probe failed: ${output.message}`);
    const status = isObj(output) ? output.status : undefined;
    if (opts.expectedStatus !== undefined && status !== opts.expectedStatus)
      return verdict(false, `status ${String(status)} is not the expected ${opts.expectedStatus}`);
    return { output };
  };
  if (isObj(t) && t.type === "probe")
    return {
      text,
      judge: () => verdict(false, "a probe tolerance is judged only by a run, which calls its provider"),
      async judgeWith(result: ProbeResult, ctx: JudgeContext): Promise<Judgement> {
        const o = outputOf(result);
        if (!("output" in o)) return o;
        const { met, reason } = await withinProbeTolerance(t, o.output, ctx);
        return verdict(met, reason);
      },
    };
  return {
    text,
    judge(result: ProbeResult): Judgement {
      const o = outputOf(result);
      if (!("output" in o)) return o;
      const { output } = o;
      let met: boolean;
      try {
        met = withinTolerance(t, output);
      } catch (err) {
        return verdict(
          false,
          `Chaos Toolkit cannot apply tolerance ${shortText(t)}: ${(err as Error).message}`,
        );
      }
      const seen =
        isObj(output) && "status" in output && opts.shape === undefined
          ? `status ${String(output.status)}`
          : shortText(output);
      return verdict(met, `${seen} ${met ? "within" : "not within"} tolerance ${shortText(t)}`);
    },
  };
}

import type { ProbeResult } from "../contract/agent.js";
import { type CtkShape, shapeProblem } from "./ctk/shapes.js";
import { checkCtkTolerance, ctkTolerance } from "./ctk/tolerance.js";
import { parseDuration } from "./duration.js";
import { formatDecimal, formatFaithful } from "./numbers.js";

/**
 * Tolerances judge what a probe measured. Forms accepted in an experiment:
 *   "< 0.3", ">= 1", "== 0", "!= 500"    comparison on the probe's value
 *   [0, 0.01]                              inclusive range
 *   200, true, "ok"                        exact value (a text that starts like a comparison must be one)
 *   { status: 200 | [200, 204] | "2xx", latency: "< 300ms", value: "< 0.3", regex: "^ok", range: [lo, hi],
 *     empty: pass|fail, nan: pass|fail }   every criterion given must hold
 * An empty result and NaN are outcomes of their own: they fail unless the tolerance says `empty: pass` or
 * `nan: pass`. The run adds two outcomes no tolerance gives: `error` (the probe could not be taken) and
 * `no-answer` (the system under test did not answer, which never passes).
 */
export type Outcome = "pass" | "fail" | "empty" | "nan" | "error" | "no-answer";

export interface Judgement {
  outcome: Outcome;
  ok: boolean;
  reason: string;
}

/** What a tolerance that calls a provider of its own (a Chaos Toolkit probe tolerance) gets from the run. */
export interface JudgeContext {
  /** Fills in the secrets of a value from the experiment. */
  bind(value: unknown): unknown;
  /** Runs one of our probes with arguments already bound, under the run's signal and `timeoutMs`. */
  probe(key: string, args: Record<string, unknown>, label: string, timeoutMs: number): Promise<ProbeResult>;
}

export interface Tolerance {
  /** The tolerance as written, for journals and reports. */
  readonly text: string;
  judge(result: ProbeResult): Judgement;
  /** Present when judging runs a provider: the run calls this instead of `judge`. */
  judgeWith?(result: ProbeResult, ctx: JudgeContext): Promise<Judgement>;
}

type Check = (v: unknown) => string | undefined; // undefined = holds, else why not

const OPS = /^\s*(<=|>=|==|!=|<|>)\s*(.+?)\s*$/;

/** Thrown by `parseTolerance` with the path (inside the tolerance) of the bad part. */
export class ToleranceError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly path: (string | number)[] = [],
  ) {
    super(message);
  }
}

/** A value as a reason shows it; a number to 4 significant digits, or as many as `test` needs to stay true. */
function describeValue(v: unknown, test?: (x: number) => boolean): string {
  if (typeof v === "number") return test ? formatFaithful(v, test) : formatDecimal(v);
  return JSON.stringify(v) ?? String(v);
}

function comparison(text: string, unit: "number" | "duration", path: (string | number)[]): Check | undefined {
  const m = OPS.exec(text);
  if (!m) return undefined;
  const [, op] = m as unknown as [string, string];
  const rhsText = m[2]!.trim();
  if (rhsText === "") return undefined; // "== " compares with nothing: the caller reports it
  let rhs: number | string;
  if (unit === "duration") {
    try {
      rhs = parseDuration(/^\d+(\.\d+)?$/.test(rhsText) ? Number(rhsText) : rhsText);
    } catch {
      throw new ToleranceError(`bad latency bound "${rhsText}"`, "write a duration like < 300ms", path);
    }
  } else {
    const n = Number(rhsText);
    if (looksNumeric(rhsText) && !(DECIMAL.test(rhsText) && Number.isFinite(n)))
      throw new ToleranceError(
        `"${text}" compares with ${rhsText}, which is not a finite decimal number`,
        'write a plain decimal bound, e.g. "< 16" or "< 1e6"',
        path,
      );
    if (rhsText === "" || Number.isNaN(n)) {
      if (op !== "==" && op !== "!=") {
        throw new ToleranceError(
          `"${text}" compares with "${rhsText}", which is not a number`,
          'write e.g. "< 0.3"',
          path,
        );
      }
      rhs = rhsText.replace(/^["']|["']$/g, "");
    } else rhs = n;
  }
  return (v) => {
    if (typeof rhs === "string") {
      const eq = String(v) === rhs;
      return (op === "==") === eq ? undefined : `${describeValue(v)} is not ${op} ${rhs}`;
    }
    const x = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
    if (Number.isNaN(x)) return `${describeValue(v)} is not a number`;
    const bound = rhs;
    const meets = (y: number) =>
      op === "<"
        ? y < bound
        : op === "<="
          ? y <= bound
          : op === ">"
            ? y > bound
            : op === ">="
              ? y >= bound
              : op === "=="
                ? y === bound
                : y !== bound;
    if (meets(x)) return undefined;
    const shown = describeValue(x, meets);
    return `${shown}${unit === "duration" ? "ms" : ""} is not ${op} ${rhs}${unit === "duration" ? "ms" : ""}`;
  };
}

function exact(expected: unknown): Check {
  return (v) =>
    v === expected || (typeof expected === "string" && String(v) === expected)
      ? undefined
      : `${describeValue(v, (x) => x === expected)} ≠ ${describeValue(expected)}`;
}

/** A bound as people write one: decimal digits, an optional fraction and exponent. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** A text meant as a number (Infinity, 1e999, 0x10, 0b1, 0o7, NaN), not a word to compare with. */
const looksNumeric = (t: string): boolean =>
  DECIMAL.test(t) ||
  /^[+-]?(infinity|inf|nan)$/i.test(t) ||
  /^[+-]?0[xXbBoO]/.test(t) ||
  !Number.isNaN(Number(t));

function range(bounds: unknown, path: (string | number)[]): Check {
  if (
    !Array.isArray(bounds) ||
    bounds.length !== 2 ||
    !bounds.every((b) => typeof b === "number" && Number.isFinite(b))
  )
    throw new ToleranceError("a range is two finite numbers, [low, high]", "write e.g. [0, 0.01]", path);
  const [lo, hi] = bounds as [number, number];
  if (!(lo <= hi))
    throw new ToleranceError(`range [${lo}, ${hi}] is empty`, "write [low, high] with low ≤ high", path);
  return (v) =>
    typeof v === "number" && v >= lo && v <= hi
      ? undefined
      : `${describeValue(v, (x) => x >= lo && x <= hi)} is outside [${lo}, ${hi}]`;
}

/** What a comparison may start with: a text starting so and not parsing as one is a typo, never an exact match. */
const LOOKS_LIKE_OPERATOR = /^\s*[<>=!~]/;

/**
 * A string tolerance is a comparison, or an exact text that cannot be mistaken for one.
 * @throws ToleranceError for an empty text or one that starts like a comparison but is not one ("=> 0", "<").
 */
function stringCheck(text: string, path: (string | number)[]): Check {
  if (text.trim() === "")
    throw new ToleranceError(
      "empty tolerance",
      'write a comparison such as "< 0.3", or { value: "ok" }',
      path,
    );
  const check = comparison(text, "number", path);
  if (check) return check;
  if (!LOOKS_LIKE_OPERATOR.test(text)) return exact(text);
  const op = /^\s*([<>=!~]+)/.exec(text)![1]!;
  const typo = { "=>": ">=", "=<": "<=", "=": "==", "!": "!=", "<>": "!=", "~=": "!=" }[op];
  throw new ToleranceError(
    `"${text}" starts like a comparison but is not one`,
    `${typo ? `did you mean "${typo}"? ` : ""}write <, <=, >, >=, == or != followed by a value, e.g. ">= 0"; to match this exact text use { regex: "^…$" }`,
    path,
  );
}

function valueCheck(spec: unknown, path: (string | number)[]): Check {
  if (typeof spec === "string") return stringCheck(spec, path);
  return exact(spec);
}

function statusCheck(spec: unknown, path: (string | number)[]): Check {
  const list = Array.isArray(spec) ? spec : [spec];
  const matchers = list.map((s, i) => {
    if (typeof s === "number" && Number.isInteger(s) && s >= 100 && s <= 599)
      return (code: number) => code === s;
    if (typeof s === "string" && /^[1-5]xx$/.test(s))
      return (code: number) => Math.floor(code / 100) === Number(s[0]);
    throw new ToleranceError(
      `bad status ${JSON.stringify(s)}`,
      'write a code from 100 to 599: 200, [200, 204] or "2xx"',
      [...path, ...(Array.isArray(spec) ? [i] : [])],
    );
  });
  return (v) =>
    typeof v === "number" && matchers.some((m) => m(v))
      ? undefined
      : `status ${describeValue(v)} is not ${list.join(" or ")}`;
}

function regexCheck(spec: string, path: (string | number)[]): Check {
  let re: RegExp;
  try {
    re = new RegExp(spec);
  } catch (err) {
    throw new ToleranceError(
      `bad regex: ${(err as Error).message}`,
      "write a JavaScript regular expression",
      path,
    );
  }
  return (v) =>
    re.test(typeof v === "string" ? v : JSON.stringify(v))
      ? undefined
      : `${describeValue(v)} does not match /${spec}/`;
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined;
}

function isNaNValue(v: unknown): boolean {
  return typeof v === "number" && Number.isNaN(v);
}

/**
 * Builds a tolerance from its YAML form.
 * @throws ToleranceError when the form is not understood (bad comparison, bad regex, empty range).
 */
export function parseTolerance(spec: unknown): Tolerance {
  const ctk = chaosToolkitForm(spec);
  if (ctk) return ctk;
  const text = typeof spec === "string" ? spec : JSON.stringify(spec);
  let fieldChecks: { field: "status" | "latency"; check: Check }[] = [];
  let valueChecks: Check[] = [];
  let onEmpty: "pass" | "fail" = "fail";
  let onNaN: "pass" | "fail" = "fail";

  if (Array.isArray(spec)) valueChecks = [range(spec, [])];
  else if (spec !== null && typeof spec === "object") {
    const o = spec as Record<string, unknown>;
    if (o.status !== undefined)
      fieldChecks.push({ field: "status", check: statusCheck(o.status, ["status"]) });
    if (o.latency !== undefined) {
      const c = comparison(String(o.latency), "duration", ["latency"]);
      if (!c)
        throw new ToleranceError(
          `bad latency tolerance "${o.latency}"`,
          'write a comparison like "< 300ms"',
          ["latency"],
        );
      fieldChecks.push({ field: "latency", check: c });
    }
    if (o.value !== undefined) valueChecks.push(valueCheck(o.value, ["value"]));
    if (o.regex !== undefined) valueChecks.push(regexCheck(String(o.regex), ["regex"]));
    if (o.range !== undefined) valueChecks.push(range(o.range, ["range"]));
    if (o.empty === "pass") onEmpty = "pass";
    if (o.nan === "pass") onNaN = "pass";
    fieldChecks = fieldChecks.filter(Boolean);
    // `empty` and `nan` only say how to judge those outcomes; alone they would let every real value pass.
    if (fieldChecks.length === 0 && valueChecks.length === 0) {
      throw new ToleranceError(
        "a tolerance needs a criterion besides empty and nan",
        'add status, latency, value, regex or range, e.g. { value: "== 0", empty: pass }',
      );
    }
  } else valueChecks = [valueCheck(spec, [])];

  const judgeValue = (v: unknown): Judgement => {
    if (isEmpty(v)) return { outcome: "empty", ok: onEmpty === "pass", reason: "empty result" };
    if (isNaNValue(v)) return { outcome: "nan", ok: onNaN === "pass", reason: "result is NaN" };
    for (const c of valueChecks) {
      const why = c(v);
      if (why) return { outcome: "fail", ok: false, reason: why };
    }
    return { outcome: "pass", ok: true, reason: `${describeValue(v)} within tolerance` };
  };

  return {
    text,
    judge(result: ProbeResult): Judgement {
      for (const { field, check } of fieldChecks) {
        const why = check(result.fields?.[field]);
        if (why) return { outcome: "fail", ok: false, reason: why };
      }
      if (valueChecks.length === 0 && fieldChecks.length > 0) {
        return {
          outcome: "pass",
          ok: true,
          reason: `${fieldChecks.map((f) => `${f.field} ${describeValue(result.fields?.[f.field])}`).join(", ")} within tolerance`,
        };
      }
      if (result.series && result.quantifier) {
        if (result.series.length === 0) return judgeValue(null);
        const judged = result.series.map((s) => ({ s, j: judgeValue(s.value) }));
        const label = (l: Record<string, string>) =>
          `{${Object.entries(l)
            .map(([k, v]) => `${k}="${v}"`)
            .join(",")}}`;
        if (result.quantifier === "each") {
          const bad = judged.find((x) => !x.j.ok);
          return bad
            ? { ...bad.j, reason: `${label(bad.s.labels)}: ${bad.j.reason}` }
            : { outcome: "pass", ok: true, reason: `all ${judged.length} series within tolerance` };
        }
        const good = judged.find((x) => x.j.ok);
        return good
          ? { outcome: "pass", ok: true, reason: `${label(good.s.labels)}: ${good.j.reason}` }
          : {
              outcome: "fail",
              ok: false,
              reason: `none of ${judged.length} series within tolerance (${judged[0]!.j.reason})`,
            };
      }
      return judgeValue(result.value);
    },
  };
}

const CTK_KEYS = ["chaostoolkit", "chaostoolkit-unmet"];

/**
 * `{ chaostoolkit: <tolerance> }`: a Chaos Toolkit tolerance, kept with that tool's own rules by an
 * experiment converted from it; `chaostoolkit-unmet` holds when it is not met (a safeguard's stop condition).
 * Beside it only `status` (Chaos Toolkit's expected_status) and `output` (judge the result rebuilt as the
 * extension's function returns it: `prometheus`, `{ chaosk8s: … }`; see ctk/shapes.ts) may appear.
 * @throws ToleranceError for anything else beside it, or a tolerance Chaos Toolkit itself would refuse.
 */
function chaosToolkitForm(spec: unknown): Tolerance | undefined {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return undefined;
  const o = spec as Record<string, unknown>;
  const key = CTK_KEYS.find((k) => k in o);
  if (!key) return undefined;
  const other = Object.keys(o).find((k) => k !== key && k !== "status" && k !== "output");
  if (other !== undefined)
    throw new ToleranceError(
      `"${key}" takes only status and output beside it, found "${other}"`,
      "split the criteria",
      [other],
    );
  const problem = checkCtkTolerance(o[key])[0];
  if (problem)
    throw new ToleranceError(problem.message, problem.hint ?? "see chaoslib/hypothesis.py", [
      key,
      ...problem.path,
    ]);
  const shape = shapeProblem(o.output);
  if (shape)
    throw new ToleranceError(shape, "output: prometheus or { chaosk8s: pods_in_phase, … }", ["output"]);
  if (o.status !== undefined && !Number.isInteger(o.status))
    throw new ToleranceError(
      "status beside chaostoolkit is one integer (expected_status)",
      "e.g. status: 200",
      ["status"],
    );
  return ctkTolerance(o[key], {
    unmet: key === "chaostoolkit-unmet",
    expectedStatus: o.status as number | undefined,
    shape: o.output as CtkShape | undefined,
  });
}

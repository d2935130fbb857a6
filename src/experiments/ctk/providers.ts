import { whichProgram } from "../program.js";
import type { Path } from "../source.js";
import { isObj, type Obj, seconds, type Translation } from "./context.js";
import { pythonProvider } from "./python.js";
import type { CtkShape } from "./shapes.js";

/**
 * What one Chaos Toolkit provider becomes here: one of our probes (`key` and its arguments), or one of our
 * actions (`ref`, `target`, `args`). `http` and `process` providers are always probes when they only
 * measure, and a `process` provider in the method is the `process.exec` action.
 */
export type Mapped =
  | { kind: "probe"; key: string; args: Obj; toleranceShape?: CtkShape }
  | { kind: "action"; ref: string; target?: Obj; args: Obj; durationS?: number };

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/** Python's `repr()` of a string: single quotes unless it holds one and no double quote. */
function pyReprText(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === "\\" || ch === q) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return q + out + q;
}

/** Python's `repr()` of JSON-like data, as `str()` shows a value inside a list or a mapping. */
function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return pyReprText(v);
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "nan";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (isObj(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyReprText(k)}: ${pyRepr(x)}`)
      .join(", ")}}`;
  return pyReprText(String(v));
}

/** Python's `str()` of an argument, as Chaos Toolkit passes it to a process. */
export function pyStr(v: unknown): string {
  return typeof v === "string" ? v : pyRepr(v);
}

/**
 * The values requests sends for one name of `params=` or `data=` (its `_encode_params`): a text or a scalar
 * once, a list item by item, a mapping its keys; None never.
 */
function encodedValues(v: unknown): unknown[] {
  const list = Array.isArray(v) ? v : isObj(v) ? Object.keys(v) : [v];
  return list.filter((x) => x !== null && x !== undefined);
}

function queryPart(v: unknown, literal: boolean): string {
  const s = pyStr(v);
  // A reference stays readable so that it is resolved as written; literal text is encoded.
  return !literal && /\$\{/.test(s) ? s : encodeURIComponent(s);
}

function httpProvider(
  p: Obj,
  at: Path,
  ours: Path,
  t: Translation,
  inMethod: boolean,
  literal: boolean,
): Mapped | undefined {
  if (typeof p.url !== "string" || p.url === "") {
    t.problems.add([...at, "url"], "an http provider must have a url", { hint: "url: http://…" });
    return undefined;
  }
  const method = typeof p.method === "string" ? p.method.toUpperCase() : "GET";
  if (!HTTP_METHODS.includes(method))
    t.problems.add([...at, "method"], `HTTP method ${String(p.method)} is not supported`, {
      hint: HTTP_METHODS.join(", "),
    });
  if (p.headers !== undefined && !isObj(p.headers))
    t.problems.add([...at, "headers"], "headers must be a mapping of names to values");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(isObj(p.headers) ? p.headers : {})) headers[k] = pyStr(v);
  let url = p.url;
  let body: string | undefined;
  const args = p.arguments;
  if (args !== undefined && args !== null && !(isObj(args) && Object.keys(args).length === 0)) {
    if (method === "GET") {
      // requests.get(url, params=arguments): the arguments are the query string.
      if (!isObj(args))
        t.problems.add([...at, "arguments"], "GET arguments must be a mapping (the query string)");
      else {
        const q = Object.entries(args)
          .filter(([, v]) => v !== null && v !== undefined)
          .flatMap(([k, v]) =>
            encodedValues(v).map((x) => `${encodeURIComponent(k)}=${queryPart(x, literal)}`),
          )
          .join("&");
        url += (url.includes("?") ? "&" : "?") + q;
      }
    } else if (typeof args === "string") body = args;
    else if (isObj(args) && headers["Content-Type"] === "application/json") {
      // chaoslib sends requests' json=arguments when the provider's Content-Type header says JSON.
      body = JSON.stringify(args);
    } else if (isObj(args)) {
      // requests.request(method, url, data=arguments): a mapping is sent form-encoded.
      body = Object.entries(args)
        .flatMap(([k, v]) => encodedValues(v).map((x) => `${encodeURIComponent(k)}=${queryPart(x, literal)}`))
        .join("&");
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
        headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else t.problems.add([...at, "arguments"], "arguments must be a mapping or a text");
  }
  const out: Obj = { url, ...(method !== "GET" ? { method } : {}) };
  if (Object.keys(headers).length) out.headers = headers;
  if (body !== undefined) out.body = body;
  if (typeof p.timeout === "number") out.timeout = seconds(p.timeout);
  else if (
    Array.isArray(p.timeout) &&
    p.timeout.length === 2 &&
    p.timeout.every((x) => typeof x === "number")
  ) {
    const [c, r] = p.timeout as [number, number];
    out.timeout = seconds(c + r);
    t.note(
      [...ours, "timeout"],
      `Chaos Toolkit's [connect ${c}, read ${r}] timeout is one budget of ${seconds(c + r)} here`,
    );
  } else if (p.timeout !== undefined && p.timeout !== null)
    t.problems.add([...at, "timeout"], "timeout must be a number of seconds or [connect, read]");
  else {
    // requests waits without limit when no timeout is given; a probe here never does.
    out.timeout = "30s";
    t.note([...ours, "timeout"], "Chaos Toolkit waits forever without a timeout; 30s here");
  }
  if (p.verify_tls === false) out.insecure = true;
  if (p.expected_status !== undefined) {
    if (!Number.isInteger(p.expected_status))
      t.problems.add([...at, "expected_status"], "expected_status must be an integer");
    else if (inMethod)
      t.note(
        ours,
        `expected_status ${p.expected_status}: the status is recorded; as in Chaos Toolkit, a failed method activity does not change the verdict`,
      );
  }
  return { kind: "probe", key: "http", args: out };
}

function processArguments(v: unknown, at: Path, t: Translation): { arguments?: string[]; shell?: string } {
  if (v === undefined || v === null) return {};
  if (typeof v === "string") return v === "" ? {} : { shell: v };
  // A mapping is flattened to name, value, name, value…; empty values are left out, as Chaos Toolkit does.
  const list = Array.isArray(v) ? v : isObj(v) ? Object.entries(v).flat() : undefined;
  if (!list) {
    t.problems.add(at, "arguments must be a list, a text or a mapping");
    return {};
  }
  return { arguments: list.filter((x) => x !== null && x !== "").map(pyStr) };
}

function processProvider(
  p: Obj,
  at: Path,
  ours: Path,
  t: Translation,
  kind: "probe" | "action",
): Mapped | undefined {
  if (typeof p.path !== "string" || p.path === "") {
    t.problems.add([...at, "path"], "a process provider must have a path", { hint: "path: /usr/bin/…" });
    return undefined;
  }
  const args: Obj = {
    path: p.path.replace(/^~(?=\/)/, process.env.HOME ?? "~"),
    ...processArguments(p.arguments, [...at, "arguments"], t),
  };
  if (typeof p.timeout === "number") args.timeout = seconds(p.timeout);
  else if (p.timeout !== undefined && p.timeout !== null)
    t.problems.add([...at, "timeout"], "timeout must be a number of seconds");
  else {
    args.timeout = "60s";
    t.note([...ours, "timeout"], "Chaos Toolkit waits forever for a process without a timeout; 60s here");
  }
  // A probe's program is checked with its arguments; an action's here, as Chaos Toolkit does on loading.
  if (kind === "action" && !/\$\{/.test(String(args.path)) && !whichProgram(String(args.path)))
    t.problems.add([...at, "path"], `${String(p.path)} cannot be found or is not executable`, {
      hint: "give a path or a name on PATH",
    });
  return kind === "probe"
    ? { kind: "probe", key: "process.exec", args }
    : { kind: "action", ref: "process.exec", args };
}

/**
 * Maps a provider, reporting at `at` (its place in the Chaos Toolkit file) what cannot be mapped.
 * `ours` is where the result lands in our document, for notes.
 */
export function mapProvider(
  provider: unknown,
  activityType: "probe" | "action",
  inMethod: boolean,
  at: Path,
  ours: Path,
  t: Translation,
): Mapped | undefined {
  if (!isObj(provider)) {
    t.problems.add(at, "an activity requires a provider", {
      hint: "provider: { type: http | process | python, … }",
    });
    return undefined;
  }
  return mapResolvedProvider(t.substitute(provider, at) as Obj, activityType, inMethod, at, ours, t);
}

/**
 * `mapProvider` for a provider whose `${name}` references are already rewritten (or resolved, with
 * `literal`: every text of the query string is then encoded as it is).
 */
export function mapResolvedProvider(
  p: Obj,
  activityType: "probe" | "action",
  inMethod: boolean,
  at: Path,
  ours: Path,
  t: Translation,
  literal = false,
): Mapped | undefined {
  switch (p.type) {
    case "http":
      return httpProvider(p, at, ours, t, inMethod, literal);
    case "process":
      return processProvider(p, at, ours, t, activityType === "action" ? "action" : "probe");
    case "python":
      return pythonProvider(p, activityType, at, ours, t);
    default:
      t.problems.add([...at, "type"], `unknown provider type ${JSON.stringify(p.type ?? null)}`, {
        hint: "http, process or python",
      });
      return undefined;
  }
}

import type { ProbeResult } from "../../contract/agent.js";
import { parseDuration } from "../duration.js";
import { whichProgram } from "../program.js";
import type { JudgeContext } from "../tolerance.js";
import { isObj, type Obj, Translation } from "./context.js";
import { mapResolvedProvider } from "./providers.js";
import { pythonName } from "./python.js";

/**
 * Chaos Toolkit's probe tolerance (chaoslib/hypothesis.py, `within_tolerance` on a mapping of type probe):
 *
 *   tolerance["provider"]["arguments"]["value"] = value      # the checked probe's whole output
 *   rtn = run_activity(tolerance)                            # met when rtn is truthy; ActivityFailed: not met
 *
 * The output reaches the tolerance probe as its provider passes any argument (provider/process.py,
 * provider/http.py, requests' `_encode_params`):
 *   process   the mapping is flattened to name, value, …: `value`, then Python's str() of the output,
 *             e.g. {'status': 0, 'stdout': '42\n', 'stderr': ''}
 *   http GET  the query string; a mapping output sends its keys: value=status&value=headers&value=body
 *   http POST… JSON (when the provider's Content-Type header is application/json) with the output inside,
 *             else form-encoded as for GET
 * Both return a mapping, which is truthy: the tolerance is met whenever the tolerance probe returns (whatever
 * its exit status or HTTP status), and not met when it cannot run (timeout, refused connection, missing
 * program). Python providers are refused: none of the functions mapped here takes a `value` argument, so in
 * Chaos Toolkit the call would raise and the tolerance could never be met.
 */

export interface ProbeToleranceProblem {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** What a JSON round trip leaves of a loaded value: a secret's template becomes its reference text. */
const plain = (v: unknown): unknown => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** The tolerance probe with `value` set among its arguments (where it already is, or last). */
function withValue(t: Obj, value: unknown): Obj {
  const provider = t.provider as Obj;
  return { ...provider, arguments: { ...(provider.arguments as Obj), value } };
}

/** Maps the tolerance probe's provider onto one of our probes; problems are paths inside the tolerance. */
function mapTolerance(provider: Obj, literal: boolean) {
  const problems: ProbeToleranceProblem[] = [];
  const t = new Translation(
    { add: (path, message, o) => problems.push({ path, message, ...(o?.hint ? { hint: o.hint } : {}) }) },
    { configuration: new Set(), secrets: new Set() },
  );
  const mapped = mapResolvedProvider(provider, "probe", false, ["provider"], ["provider"], t, literal);
  return { mapped: mapped?.kind === "probe" ? mapped : undefined, problems };
}

/** Every problem Chaos Toolkit's validation (or its first call) would meet with this probe tolerance. */
export function checkProbeTolerance(raw: Obj): ProbeToleranceProblem[] {
  const t = plain(raw) as Obj;
  const problems: ProbeToleranceProblem[] = [];
  if (typeof t.name !== "string" || t.name === "")
    problems.push({ path: [], message: "a probe tolerance must have a name", hint: "name: …" });
  if (t.timeout !== undefined && typeof t.timeout !== "number")
    problems.push({ path: ["timeout"], message: "activity timeout must be a number" });
  const p = t.provider;
  if (!isObj(p))
    return [
      ...problems,
      {
        path: [],
        message: "a probe tolerance requires a provider",
        hint: "provider: { type: process | http, … }",
      },
    ];
  if (p.type === "python")
    return [
      ...problems,
      {
        path: ["provider"],
        message: `python provider ${pythonName(p)} cannot judge a tolerance here: it would be called with value=<the output>, and no function mapped here takes one`,
        hint: "a process or http tolerance probe, or a regex, jsonpath or range tolerance",
      },
    ];
  if (!isObj(p.arguments))
    problems.push({
      path: ["provider", ...(p.arguments === undefined ? [] : ["arguments"])],
      message:
        "a probe tolerance needs provider.arguments, a mapping: Chaos Toolkit sets arguments.value to the output it judges",
      hint: "arguments: {} at least",
    });
  const { problems: mapping } = mapTolerance(isObj(p.arguments) ? withValue(t, {}) : p, false);
  problems.push(...mapping);
  if (p.type === "process" && typeof p.path === "string" && !/\$\{/.test(p.path) && !whichProgram(p.path))
    problems.push({
      path: ["provider", "path"],
      message: `${p.path} cannot be found or is not executable`,
      hint: "give a path or a name on PATH",
    });
  return problems;
}

function runTimeoutMs(args: Obj): number {
  try {
    return parseDuration((args.timeout as string | undefined) ?? "60s", "timeout") + 1000;
  } catch {
    return 61_000;
  }
}

/**
 * Judges `output` (the checked probe's, rebuilt as Chaos Toolkit sees it) by running the tolerance probe
 * `t` with it. The tolerance must have passed `checkProbeTolerance`; anything that keeps the tolerance probe
 * from running leaves the tolerance not met.
 */
export async function withinProbeTolerance(
  t: Obj,
  output: unknown,
  ctx: JudgeContext,
): Promise<{ met: boolean; reason: string }> {
  const name = String(t.name);
  let provider: Obj;
  try {
    // Secrets are filled in first: the output is data, never a template.
    provider = withValue({ ...t, provider: ctx.bind(t.provider) }, output);
  } catch (err) {
    return { met: false, reason: `tolerance probe "${name}" cannot be prepared: ${(err as Error).message}` };
  }
  const { mapped, problems } = mapTolerance(provider, true);
  if (!mapped)
    return {
      met: false,
      reason: `tolerance probe "${name}" cannot run: ${problems.map((p) => p.message).join("; ")}`,
    };
  let result: ProbeResult;
  try {
    result = await ctx.probe(mapped.key, mapped.args, "it", runTimeoutMs(mapped.args));
  } catch (err) {
    return { met: false, reason: `tolerance probe "${name}" did not return: ${(err as Error).message}` };
  }
  const status = result.fields?.status;
  const expected = provider.expected_status;
  if (Number.isInteger(expected) && status !== expected)
    return {
      met: false,
      reason: `tolerance probe "${name}": status ${String(status)} is not the expected ${String(expected)}`,
    };
  const seen = result.summary ?? `status ${String(status)}`;
  return {
    met: true,
    reason: `tolerance probe "${name}" returned (${seen}), which Chaos Toolkit counts as met`,
  };
}

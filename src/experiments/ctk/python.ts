import type { Path } from "../source.js";
import { CHAOSK8S, type Mapper } from "./chaosk8s.js";
import { isObj, type Obj, seconds, secondsAgo, type Translation } from "./context.js";
import type { Mapped } from "./providers.js";

/**
 * Python providers of the common Chaos Toolkit extensions that mean the same as one of our agents' actions
 * or probes. Anything else is a validation error naming its module and function: a Python function cannot
 * run here, and skipping it silently would fake the experiment.
 *
 * Faults here are reverted automatically, so the extensions' undo functions (`delete_toxic`,
 * `enable_proxy`, …) become nothing where they appear in `rollbacks` (see UNDO).
 */

const ms = (v: unknown) => `${Number(v)}ms`;

function toxic(ref: string, args: (a: Obj) => Obj): Mapper {
  return (a, note) => {
    if (typeof a.for_proxy !== "string") return "needs for_proxy, the proxy's name";
    if (a.toxic_name !== undefined)
      note(`toxic_name ${JSON.stringify(a.toxic_name)}: the toxic is named and removed by the run itself`);
    return {
      kind: "action",
      ref,
      target: { proxy: a.for_proxy },
      // chaostoxi adds its toxics on the downstream stream.
      args: { ...args(a), stream: "downstream" },
    };
  };
}

const MAPPERS: Record<string, Mapper> = {
  "chaostoxi.toxic.actions.create_latency_toxic": toxic("toxiproxy.latency", (a) => ({
    latency: ms(a.latency),
    ...(a.jitter ? { jitter: ms(a.jitter) } : {}),
  })),
  "chaostoxi.toxic.actions.create_bandwith_degradation_toxic": toxic("toxiproxy.bandwidth", (a) => ({
    rate: Number(a.rate),
  })),
  "chaostoxi.toxic.actions.create_timeout_toxic": toxic("toxiproxy.timeout", (a) => ({
    timeout: ms(a.timeout),
  })),
  "chaostoxi.toxic.actions.create_slow_connection_close_toxic": toxic("toxiproxy.slow-close", (a) => ({
    delay: ms(a.delay),
  })),
  "chaostoxi.toxic.actions.create_slicer_toxic": toxic("toxiproxy.slicer", (a) => ({
    average_size: Number(a.average_size),
    ...(a.size_variation !== undefined ? { size_variation: Number(a.size_variation) } : {}),
    ...(a.delay !== undefined ? { delay: `${Number(a.delay)}us` } : {}),
  })),
  "chaostoxi.toxic.actions.create_limiter_toxic": toxic("toxiproxy.limit-data", (a) => ({
    bytes: Number(a.bytes),
  })),
  "chaostoxi.proxy.actions.disable_proxy": (a) =>
    typeof a.proxy_name === "string"
      ? { kind: "action", ref: "toxiproxy.down", target: { proxy: a.proxy_name }, args: {} }
      : "needs proxy_name",
  // chaosprometheus returns the API's answer as it is, every series: the tolerance judges it whole.
  "chaosprometheus.probes.query": (a, note) => {
    if (typeof a.query !== "string") return "needs query, a PromQL expression";
    if (a.when !== undefined) note("when: the query is evaluated at the time of the check");
    if (a.timeout !== undefined) note("timeout: Prometheus's own query timeout is left at its default");
    return {
      kind: "probe",
      key: "prometheus",
      args: { query: a.query, series: "each" },
      toleranceShape: "prometheus",
    };
  },
  "chaosprometheus.probes.query_interval": (a, note) => {
    if (typeof a.query !== "string") return "needs query, a PromQL expression";
    const start = secondsAgo(a.start);
    if (start === undefined || start <= 0)
      return `start ${JSON.stringify(a.start ?? null)}: only a time before now ("5 minutes ago") maps here`;
    if (secondsAgo(a.end) !== 0)
      return `end ${JSON.stringify(a.end ?? null)}: only "now" maps here (the range ends when the probe runs)`;
    const step = a.step ?? 1;
    if (typeof step !== "number" || !(step > 0)) return "step must be a number of seconds above 0";
    if (a.timeout !== undefined) note("timeout: Prometheus's own query timeout is left at its default");
    return {
      kind: "probe",
      key: "prometheus",
      // Every point of every series is kept for the tolerance; aggregate only says what the journal shows.
      args: { query: a.query, range: seconds(start), step: seconds(step), aggregate: "last", series: "each" },
      toleranceShape: "prometheus",
    };
  },
  ...CHAOSK8S,
};

/** Undo functions whose work the run does by itself: dropped from `rollbacks`, with a note. */
export const UNDO = new Set([
  "chaostoxi.toxic.actions.delete_toxic",
  "chaostoxi.toxic.actions.reset",
  "chaostoxi.proxy.actions.enable_proxy",
  "chaosk8s.deployment.actions.scale_deployment",
]);

export function pythonName(p: Obj): string {
  return `${String(p.module ?? "?")}.${String(p.func ?? "?")}`;
}

export function pythonProvider(
  p: Obj,
  activityType: "probe" | "action",
  at: Path,
  ours: Path,
  t: Translation,
): Mapped | undefined {
  if (typeof p.module !== "string" || typeof p.func !== "string") {
    t.problems.add(at, "a python provider needs module and func");
    return undefined;
  }
  const name = pythonName(p);
  const mapper = MAPPERS[name];
  if (!mapper) {
    t.problems.add([...at, "func"], `python provider ${name} has no equivalent here`, {
      hint: `supported: ${Object.keys(MAPPERS).join(", ")}; or use an http or process provider`,
    });
    return undefined;
  }
  const args = p.arguments === undefined ? {} : p.arguments;
  if (!isObj(args)) {
    t.problems.add([...at, "arguments"], "arguments must be a mapping");
    return undefined;
  }
  const mapped = mapper(args, (text) => t.note(ours, `${name}: ${text}`));
  if (typeof mapped === "string") {
    t.problems.add([...at, "arguments"], `${name}: ${mapped}`);
    return undefined;
  }
  if ((mapped.kind === "probe") !== (activityType === "probe")) {
    t.problems.add(
      at,
      `${name} is ${mapped.kind === "probe" ? "a probe" : "an action"}, not ${activityType === "probe" ? "a probe" : "an action"}`,
    );
    return undefined;
  }
  return mapped;
}

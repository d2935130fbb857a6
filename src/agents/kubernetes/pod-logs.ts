import { durationOf, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ProbeDefinition } from "../agent.js";
import { cluster } from "./cluster.js";
import { mapLimit } from "./concurrency.js";
import { checkPodProbe, listPods, podProbeProperties, podProbeSchema, readPodTarget } from "./target.js";

/** A log read is capped (the API's limitBytes) so a chatty pod cannot fill the run's memory or journal. */
const DEFAULT_LIMIT_BYTES = 1 << 20;

function compile(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new ChaosError("invalid", `match ${JSON.stringify(pattern)} is not a regular expression`, {
      cause: err,
      hint: (err as Error).message,
    });
  }
}

const lines = (text: string) => (text === "" ? [] : text.replace(/\n$/, "").split("\n"));

/**
 * The logs of the matching pods, as `kubectl logs` reads them (pods/log, one container per pod): `value` is
 * the number of lines, or of lines matching `match`; fields give `lines`, `matching`, `pods` and `logs`, the
 * text of each pod by name. A pod whose log cannot be read (a container still waiting, several containers
 * without `container`, no previous container) fails the probe with the API's message.
 */
export const podLogsProbe: ProbeDefinition = {
  name: "pod-logs",
  description:
    "lines in the logs of the matching pods (value: lines matching `match`, else all); fields lines, matching, pods, logs",
  args: {
    ...podProbeSchema,
    properties: {
      ...podProbeProperties,
      container: {
        type: "string",
        minLength: 1,
        description: "the container whose log is read (needed when a pod has several)",
      },
      previous: {
        type: "boolean",
        default: false,
        description: "the log of the container's previous run (after a restart)",
      },
      since: durationOf("interval", "only lines written this long ago or later, e.g. 5m"),
      "tail-lines": { type: "integer", minimum: 0, description: "only the last N lines of each pod" },
      timestamps: {
        type: "boolean",
        default: false,
        description: "prefix each line with the time the runtime recorded it (RFC 3339)",
      },
      "limit-bytes": {
        type: "integer",
        minimum: 1,
        default: DEFAULT_LIMIT_BYTES,
        description: "read at most this many bytes of each pod's log",
      },
      match: {
        type: "string",
        minLength: 1,
        description: "a regular expression: value counts the lines matching it",
      },
    },
  },
  check(args) {
    const problems = checkPodProbe(args);
    if (typeof args.match === "string") {
      try {
        new RegExp(args.match);
      } catch (err) {
        problems.push({ path: ["match"], message: `not a regular expression: ${(err as Error).message}` });
      }
    }
    return problems;
  },
  /** @throws ChaosError("agent") when the pods cannot be listed or a log cannot be read. */
  async run(args, ctx) {
    const c = await cluster(ctx);
    const namespace = args.namespace as string;
    const match = typeof args.match === "string" ? compile(args.match) : undefined;
    const since =
      args.since === undefined ? undefined : Math.ceil(parseDuration(args.since, "interval") / 1000);
    const pods = await listPods(c, readPodTarget(args), ctx.signal);
    const texts = await mapLimit(pods, 8, (p) =>
      c.callText({ verb: "get", resource: "pods/log", namespace, name: p.name }, ctx.signal, (o) =>
        c.core.readNamespacedPodLog(
          {
            name: p.name,
            namespace,
            container: args.container as string | undefined,
            previous: args.previous === true ? true : undefined,
            sinceSeconds: since,
            tailLines: args["tail-lines"] as number | undefined,
            timestamps: args.timestamps === true ? true : undefined,
            limitBytes: (args["limit-bytes"] as number | undefined) ?? DEFAULT_LIMIT_BYTES,
          },
          o,
        ),
      ),
    );
    const logs: Record<string, string> = {};
    let total = 0;
    let matching = 0;
    pods.forEach((p, i) => {
      const text = texts[i] ?? "";
      logs[p.name] = text;
      const all = lines(text);
      total += all.length;
      if (match) matching += all.filter((l) => match.test(l)).length;
    });
    const value = match ? matching : total;
    return {
      value,
      fields: { lines: total, matching: match ? matching : total, pods: pods.length, logs },
      summary: match
        ? `${matching} of ${total} lines match /${match.source}/ in ${pods.length} pods`
        : `${total} lines in ${pods.length} pods`,
    };
  },
};

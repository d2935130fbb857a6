import { durationSchema, formatDuration, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition, ActivityInput, JsonSchema } from "../agent.js";
import { prepareNetworkFault, targetSchema } from "./fault.js";
import { type QdiscPlan, requireQdisc } from "./qdisc.js";

/**
 * Packet-level shaping with a root qdisc on the target namespace's interfaces: `network.bandwidth` with
 * `via: tbf` (token bucket, every packet the interfaces send) and `network.netem` (delay, loss, corrupt,
 * duplicate, reorder), which needs the kernel's sch_netem: where it is missing, the preflight refuses the
 * run (exit 4) before anything is touched.
 */

export const interfacesSchema: JsonSchema = {
  type: "array",
  items: { type: "string", pattern: "^[\\w.@-]{1,15}$" },
  description: "interfaces of the target's namespace to shape; default every one but lo (its egress)",
};

const readInterfaces = (args: Record<string, unknown>) => (args.interfaces as string[] | undefined) ?? [];

/** tbf parameters for `rate` KB/s (1 KB = 1000 bytes, as the bandwidth toxic): a 100 ms queue at most. */
export function tbfParams(rateKBps: number): string[] {
  const bytesPerSecond = rateKBps * 1000;
  // The bucket must hold at least one tick's worth of bytes (HZ may be 100) and a few full frames.
  const burst = Math.max(3_200, Math.ceil(bytesPerSecond / 100));
  return ["rate", `${rateKBps * 8}kbit`, "burst", String(burst), "latency", "100ms"];
}

/** Arguments `via: tbf` does not take: it shapes whole interfaces, never one peer or stream. */
const PER_CONNECTION = ["to", "from", "stream", "toxicity"];

/**
 * `network.bandwidth` with `via: tbf`, checked: no per-connection arguments.
 * @throws ChaosError("invalid") naming the arguments tbf cannot honour.
 */
export function tbfPlan(args: Record<string, unknown>): QdiscPlan {
  const refused = PER_CONNECTION.filter((k) => args[k] !== undefined);
  if (refused.length) {
    throw new ChaosError("invalid", `network.bandwidth via tbf does not take ${refused.join(", ")}`, {
      hint: "tbf shapes every packet an interface sends; for one destination or stream leave out `via` (interception)",
    });
  }
  return { kind: "tbf", params: tbfParams(args.rate as number), interfaces: readInterfaces(args) };
}

/** A fault of a qdisc plan: the shared shape of every network action, with `plan.qdisc`. */
export function prepareQdiscFault(
  input: ActivityInput,
  ctx: Parameters<ActionDefinition["prepare"]>[1],
  label: string,
  qdisc: QdiscPlan,
) {
  const on = qdisc.interfaces.length ? qdisc.interfaces.join(", ") : "every interface but lo";
  return prepareNetworkFault(input, ctx, {
    label: `${label} (${qdisc.kind}, ${on})`,
    plan: (tag) => ({ tag, qdisc }),
  });
}

const share = (description: string): JsonSchema => ({
  type: "number",
  exclusiveMinimum: 0,
  maximum: 1,
  description,
});
const percent = (x: number) => `${Math.round(x * 100_000) / 1000}%`;

/** The netem parameters and a label from the validated args. @throws ChaosError("invalid") for bad ones. */
export function netemPlan(args: Record<string, unknown>): { plan: QdiscPlan; label: string } {
  const params: string[] = [];
  const parts: string[] = [];
  const delay = args.delay === undefined ? undefined : parseDuration(args.delay);
  const jitter = args.jitter === undefined ? undefined : parseDuration(args.jitter);
  if (jitter !== undefined && delay === undefined) {
    throw new ChaosError("invalid", "network.netem: jitter needs a delay");
  }
  if (args.reorder !== undefined && !delay) {
    throw new ChaosError("invalid", "network.netem: reorder needs a delay", {
      hint: "netem reorders by sending some packets at once while the rest wait `delay`",
    });
  }
  if (delay !== undefined) {
    params.push("delay", `${delay}ms`, ...(jitter ? [`${jitter}ms`] : []));
    parts.push(`delay ${formatDuration(delay)}${jitter ? ` ±${formatDuration(jitter)}` : ""}`);
  }
  for (const key of ["loss", "corrupt", "duplicate", "reorder"] as const) {
    const value = args[key] as number | undefined;
    if (value === undefined) continue;
    params.push(key, percent(value));
    parts.push(`${key} ${percent(value)}`);
  }
  return {
    plan: { kind: "netem", params, interfaces: readInterfaces(args) },
    label: `netem ${parts.join(", ")}`,
  };
}

/** tc netem on the target namespace's interfaces, where the kernel has sch_netem. */
export const netemAction: ActionDefinition = {
  name: "netem",
  description:
    "packet-level delay, loss, corruption, duplication or reordering with tc netem on the target namespace's interfaces (needs the kernel's sch_netem)",
  target: targetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    anyOf: ["delay", "loss", "corrupt", "duplicate", "reorder"].map((k) => ({ required: [k] })),
    properties: {
      delay: { ...durationSchema, description: "added delay of every packet sent, e.g. 100ms" },
      jitter: { ...durationSchema, description: "random spread ± of the delay" },
      loss: share("share of packets dropped, e.g. 0.05"),
      corrupt: share("share of packets with a flipped bit"),
      duplicate: share("share of packets sent twice"),
      reorder: share("share of packets sent at once, ahead of the delayed rest (needs delay)"),
      interfaces: interfacesSchema,
    },
  },
  /** @throws ChaosError("invalid") for bad args; ChaosError("agent") where tc, root or sch_netem is missing. */
  async preflight(input) {
    netemPlan(input.args);
    await requireQdisc("netem", "network.netem");
  },
  /** @throws like `preflight`, and ChaosError("agent") when the target cannot be resolved. */
  async prepare(input, ctx) {
    const { plan, label } = netemPlan(input.args);
    await requireQdisc("netem", "network.netem");
    return prepareQdiscFault(input, ctx, label, plan);
  },
};

/**
 * `network.bandwidth` with a `via` argument: `interception` (default, the proxy's bandwidth toxic per
 * connection) or `tbf` (a token bucket on the namespace's interfaces).
 */
export function withTbf(action: ActionDefinition): ActionDefinition {
  const schema = action.args as { properties: Record<string, JsonSchema> };
  return {
    ...action,
    description: `${action.description}; with via: tbf, a token bucket (tc tbf) on the target namespace's interfaces instead`,
    args: {
      ...schema,
      properties: {
        ...schema.properties,
        via: {
          enum: ["interception", "tbf"],
          default: "interception",
          description:
            "interception (default): per connection, by the proxy's toxic; tbf: every packet the interfaces send",
        },
        interfaces: interfacesSchema,
      },
    },
    /** @throws ChaosError("invalid") for arguments tbf cannot honour; ChaosError("agent") where tc or root is missing. */
    async preflight(input, ctx) {
      if (input.args.via !== "tbf") {
        if (input.args.interfaces !== undefined) throw interfacesWithoutTbf();
        return action.preflight?.(input, ctx);
      }
      tbfPlan(input.args);
      await requireQdisc("tbf", "network.bandwidth via tbf");
    },
    async prepare(input, ctx) {
      const { via, interfaces, ...rest } = input.args;
      if (via !== "tbf") {
        if (interfaces !== undefined) throw interfacesWithoutTbf();
        return action.prepare({ ...input, args: rest }, ctx);
      }
      const plan = tbfPlan(input.args);
      await requireQdisc("tbf", "network.bandwidth via tbf");
      return prepareQdiscFault(input, ctx, `bandwidth ${input.args.rate} KB/s`, plan);
    },
  };
}

const interfacesWithoutTbf = () =>
  new ChaosError("invalid", "network.bandwidth takes `interfaces` only with via: tbf", {
    hint: "interception acts per connection (to / from), not per interface",
  });

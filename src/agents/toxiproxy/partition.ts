import type { ToxicDirection } from "toxiproxy-node-client";
import type { ActionDefinition } from "../agent.js";
import { plannedFault, toxicNamer } from "./fault.js";
import { ToxiproxyOps } from "./ops.js";
import { session } from "./session.js";
import { proxiesBetween, resolveProxies } from "./target.js";
import { toxicitySchema } from "./toxic-action.js";

/**
 * Cuts the network between two services: every byte between them is dropped (a `timeout` toxic with no
 * close), so calls hang as in a real partition; the revert closes the stalled connections, as Toxiproxy
 * does when that toxic is removed, so clients reconnect. `one-way` cuts only what flows from `from` to `to`:
 * requests on the from→to proxies (upstream) and answers on the to→from proxies (downstream).
 */
export const partitionAction: ActionDefinition = {
  name: "partition",
  description: "cut traffic between two services (through the proxies' from/to), both ways or one way",
  target: {
    type: "object",
    properties: { from: { type: "string", minLength: 1 }, to: { type: "string", minLength: 1 } },
    required: ["from", "to"],
    additionalProperties: false,
  },
  args: {
    type: "object",
    properties: {
      direction: { enum: ["both", "one-way"], default: "both", description: "both (default) or one-way" },
      toxicity: toxicitySchema,
    },
    additionalProperties: false,
  },
  /** @throws ChaosError("agent") when no proxy joins the services, or Toxiproxy is unreachable. */
  async prepare(input, ctx) {
    const from = String(input.target.from);
    const to = String(input.target.to);
    const oneWay = input.args.direction === "one-way";
    const toxicity = (input.args.toxicity as number | undefined) ?? 1;
    const s = await session(ctx);
    const ops = new ToxiproxyOps(s.url, s.client);
    const forward = proxiesBetween(s, from, to);
    const backward = s.config.proxies.filter((p) => p.from === to && p.to === from).map((p) => p.name);
    const proxies = await resolveProxies(s, ops, [...forward, ...backward]);
    const name = toxicNamer(ctx);
    const streams = (proxy: string): ToxicDirection[] => {
      if (!oneWay) return ["upstream", "downstream"];
      return forward.includes(proxy) ? ["upstream"] : ["downstream"];
    };
    const toxics = proxies.flatMap((p) =>
      streams(p.name).map((stream) => ({
        proxy: p.name,
        toxic: {
          name: name("partition", stream),
          type: "timeout" as const,
          stream,
          toxicity,
          attributes: { timeout: 0 },
        },
      })),
    );
    const label = `partition ${from} ${oneWay ? "→" : "↔"} ${to}`;
    return plannedFault(s, ops, { label, proxies, toxics }, ctx);
  },
};

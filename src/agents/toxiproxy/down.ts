import type { ActionDefinition } from "../agent.js";
import { plannedFault } from "./fault.js";
import { ToxiproxyOps } from "./ops.js";
import { session } from "./session.js";
import { resolveProxies, targetNames, targetSchema } from "./target.js";

/** Takes proxies down: new connections are refused and live ones closed; the revert enables them again. */
export const downAction: ActionDefinition = {
  name: "down",
  description: "disable the proxies (connections refused, live ones closed) until reverted",
  target: targetSchema,
  args: { type: "object", properties: {}, additionalProperties: false },
  /** @throws ChaosError("agent") when Toxiproxy is unreachable or a proxy is unknown. */
  async prepare(input, ctx) {
    const s = await session(ctx);
    const ops = new ToxiproxyOps(s.url, s.client);
    const proxies = await resolveProxies(s, ops, targetNames(s, input.target));
    return plannedFault(
      s,
      ops,
      { label: "down", proxies, toxics: [], disable: proxies.map((p) => p.name) },
      ctx,
    );
  },
};

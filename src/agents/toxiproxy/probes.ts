import type { ProbeDefinition } from "../agent.js";
import { ToxiproxyOps } from "./ops.js";
import { session } from "./session.js";

const args = {
  type: "object",
  properties: { proxy: { type: "string", minLength: 1, description: "the proxy's name" } },
  required: ["proxy"],
  additionalProperties: false,
};

/** Whether a proxy exists and is enabled: value true only when both. */
export const proxyProbe: ProbeDefinition = {
  name: "proxy",
  description: "whether a proxy exists and is enabled (value: boolean; fields: exists, enabled)",
  args,
  /** @throws ChaosError("agent") when Toxiproxy is unreachable. */
  async run(a, ctx) {
    const s = await session(ctx);
    const proxy = await new ToxiproxyOps(s.url, s.client).proxy(String(a.proxy));
    const exists = proxy !== undefined;
    const enabled = proxy?.enabled ?? false;
    return {
      value: exists && enabled,
      fields: { exists, enabled },
      summary: `${a.proxy}: ${exists ? (enabled ? "enabled" : "disabled") : "missing"}`,
    };
  },
};

/** The toxics present on a proxy: value = how many, field `names`. */
export const toxicsProbe: ProbeDefinition = {
  name: "toxics",
  description: "the toxics on a proxy (value: count; fields: names, exists)",
  args,
  /** @throws ChaosError("agent") when Toxiproxy is unreachable. */
  async run(a, ctx) {
    const s = await session(ctx);
    const toxics = await new ToxiproxyOps(s.url, s.client).toxics(String(a.proxy));
    const names = (toxics ?? []).map((t) => t.name);
    return {
      value: names.length,
      fields: { names, exists: toxics !== undefined },
      summary:
        toxics === undefined
          ? `${a.proxy}: missing`
          : `${a.proxy}: ${names.length} toxic(s) ${names.join(", ")}`,
    };
  },
};

import type { ToxicDirection, ToxicType } from "toxiproxy-node-client";
import type { ActionDefinition, JsonSchema } from "../agent.js";
import { plannedFault, toxicNamer } from "./fault.js";
import { ToxiproxyOps } from "./ops.js";
import { session } from "./session.js";
import { resolveProxies, targetNames, targetSchema } from "./target.js";

export type Stream = ToxicDirection | "both";

export const streamSchema: JsonSchema = {
  enum: ["upstream", "downstream", "both"],
  description: "upstream = client→server, downstream = server→client, both = two toxics",
};

export const toxicitySchema: JsonSchema = {
  type: "number",
  minimum: 0,
  maximum: 1,
  description: "share of connections affected, drawn per connection (default 1)",
};

export const streamsOf = (stream: Stream): ToxicDirection[] =>
  stream === "both" ? ["upstream", "downstream"] : [stream];

export interface ToxicActionSpec {
  name: string;
  type: ToxicType;
  description: string;
  /** The action's own arguments (stream and toxicity are added). */
  args: Record<string, JsonSchema>;
  required?: string[];
  defaultStream?: Stream;
  /** The toxic's attributes from the validated args. @throws ChaosError("invalid") for a bad duration. */
  attributes(args: Record<string, unknown>): Record<string, number>;
  /** For humans: "latency 300ms". */
  label(args: Record<string, unknown>): string;
}

/**
 * An action that adds one toxic type to the target proxies (one toxic per proxy and stream). prepare()
 * resolves the proxies and names every toxic; apply() adds them; the revert removes exactly those.
 */
export function toxicAction(spec: ToxicActionSpec): ActionDefinition {
  const defaultStream = spec.defaultStream ?? "downstream";
  return {
    name: spec.name,
    description: spec.description,
    target: targetSchema,
    args: {
      type: "object",
      properties: {
        ...spec.args,
        stream: { ...streamSchema, default: defaultStream },
        toxicity: toxicitySchema,
      },
      required: spec.required ?? [],
      additionalProperties: false,
    },
    /** @throws ChaosError("agent") when Toxiproxy is unreachable or a proxy is unknown; "invalid" for bad args. */
    async prepare(input, ctx) {
      const attributes = spec.attributes(input.args);
      const streams = streamsOf((input.args.stream as Stream | undefined) ?? defaultStream);
      const toxicity = (input.args.toxicity as number | undefined) ?? 1;
      const s = await session(ctx);
      const ops = new ToxiproxyOps(s.url, s.client);
      const proxies = await resolveProxies(s, ops, targetNames(s, input.target));
      const name = toxicNamer(ctx);
      const toxics = proxies.flatMap((p) =>
        streams.map((stream) => ({
          proxy: p.name,
          toxic: { name: name(spec.type, stream), type: spec.type, stream, toxicity, attributes },
        })),
      );
      const label = `${spec.label(input.args)} (${streams.join("+")}${toxicity < 1 ? `, toxicity ${toxicity}` : ""})`;
      return plannedFault(s, ops, { label, proxies, toxics }, ctx);
    },
  };
}

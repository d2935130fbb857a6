import type { ToxicDirection } from "toxiproxy-node-client";
import type { ActionDefinition, JsonSchema } from "../agent.js";
import { plannedFault, toxicNamer } from "./fault.js";
import { requireHttpToxics } from "./http-support.js";
import { type NewToxic, ToxiproxyOps } from "./ops.js";
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

/** Which requests an HTTP toxic acts on (the proxy's `match` attribute, passed on as written). */
export const matchSchema: JsonSchema = {
  type: "object",
  description: "requests to act on; every field given must match (a response is matched by its request)",
  properties: {
    method: {
      oneOf: [
        { type: "string", pattern: "^[A-Za-z-]+$" },
        { type: "array", items: { type: "string", pattern: "^[A-Za-z-]+$" }, minItems: 1 },
      ],
      description: "POST, or [GET, HEAD]",
    },
    path: {
      type: "string",
      pattern: "^/",
      description: "exact path without the query, or a glob: * within a segment, ** across (/users/*/orders)",
    },
    path_prefix: { type: "string", pattern: "^/", description: "/api matches /api and /api/v1/x" },
    headers: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "header values by name; a value may be a glob with *",
    },
  },
  additionalProperties: false,
};

const percentSchema: JsonSchema = {
  type: "number",
  minimum: 0,
  maximum: 100,
  description: "share of matching requests affected, in percent, drawn per request (default 100)",
};

export const streamsOf = (stream: Stream): ToxicDirection[] =>
  stream === "both" ? ["upstream", "downstream"] : [stream];

export interface ToxicActionSpec {
  name: string;
  type: NewToxic["type"];
  description: string;
  /** The action's own arguments (stream and toxicity are added). */
  args: Record<string, JsonSchema>;
  required?: string[];
  defaultStream?: Stream;
  /** The toxic's attributes from the validated args. @throws ChaosError("invalid") for a bad duration. */
  attributes(args: Record<string, unknown>): Record<string, unknown>;
  /**
   * An HTTP toxic: it takes `match` and `percent` (per request) instead of `toxicity` (per connection), and
   * the preflight asks the server whether it knows the type before anything is injected.
   */
  perRequest?: boolean;
  /** For humans: "latency 300ms". */
  label(args: Record<string, unknown>): string;
}

/** The spec each toxic action was built from, so that other agents (network) offer the same toxics. */
const specs = new WeakMap<ActionDefinition, ToxicActionSpec>();

/** The toxic spec behind an action made by `toxicAction`, if it is one. */
export function toxicSpecOf(action: ActionDefinition): ToxicActionSpec | undefined {
  return specs.get(action);
}

/** JSON Schema of a toxic action's arguments: its own, stream, toxicity (or match and percent), plus `extra`. */
export function toxicArgsSchema(spec: ToxicActionSpec, extra: Record<string, JsonSchema> = {}): JsonSchema {
  const share: Record<string, JsonSchema> = spec.perRequest
    ? { match: matchSchema, percent: percentSchema }
    : { toxicity: toxicitySchema };
  return {
    type: "object",
    properties: {
      ...spec.args,
      stream: { ...streamSchema, default: spec.defaultStream ?? "downstream" },
      ...share,
      ...extra,
    },
    required: spec.required ?? [],
    additionalProperties: false,
  };
}

/**
 * Reads a toxic action's validated arguments: the toxic's attributes (with `match` for an HTTP toxic), its
 * streams, toxicity (per connection, or per request from `percent`) and a label.
 * @throws ChaosError("invalid") for a bad duration.
 */
export function readToxicArgs(
  spec: ToxicActionSpec,
  args: Record<string, unknown>,
): { attributes: Record<string, unknown>; streams: ToxicDirection[]; toxicity: number; label: string } {
  const own = spec.attributes(args);
  const attributes = spec.perRequest && args.match ? { ...own, match: args.match } : own;
  const streams = streamsOf((args.stream as Stream | undefined) ?? spec.defaultStream ?? "downstream");
  const toxicity = spec.perRequest
    ? ((args.percent as number | undefined) ?? 100) / 100
    : ((args.toxicity as number | undefined) ?? 1);
  const share = spec.perRequest ? `, ${toxicity * 100}% of requests` : `, toxicity ${toxicity}`;
  const label = `${spec.label(args)} (${streams.join("+")}${toxicity < 1 ? share : ""})`;
  return { attributes, streams, toxicity, label };
}

/**
 * An action that adds one toxic type to the target proxies (one toxic per proxy and stream). prepare()
 * resolves the proxies and names every toxic; apply() adds them; the revert removes exactly those.
 */
export function toxicAction(spec: ToxicActionSpec): ActionDefinition {
  const action: ActionDefinition = {
    name: spec.name,
    description: spec.description,
    target: targetSchema,
    args: toxicArgsSchema(spec),
    /** @throws ChaosError("agent") when Toxiproxy is unreachable or a proxy is unknown; "invalid" for bad args. */
    async prepare(input, ctx) {
      const { attributes, streams, toxicity, label } = readToxicArgs(spec, input.args);
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
      return plannedFault(s, ops, { label, proxies, toxics }, ctx);
    },
    ...(spec.perRequest && {
      /** @throws ChaosError("agent") when the server does not know HTTP toxics (Toxiproxy itself does not). */
      async preflight(input, ctx) {
        const s = await session(ctx);
        await requireHttpToxics(s, targetNames(s, input.target), ctx.signal);
      },
    }),
  };
  specs.set(action, spec);
  return action;
}

import {
  ErrBadRequestBody,
  ErrInvalidStream,
  ErrInvalidToxicType,
  ErrToxicAlreadyExists,
} from "./api-error.js";
import type { ProxyCollection } from "./collection.js";
import { asStruct, decodeBody, numberField, objectField, stringField } from "./go-json.js";
import type { Direction } from "./link.js";
import { json, noContent, type Reply } from "./reply.js";
import { type Toxic, toxicJson } from "./toxic-collection.js";
import type { HttpToxicKind } from "./toxics/http-toxic.js";
import { TOXICS } from "./toxics/index.js";
import type { ToxicKind } from "./toxics/toxic.js";

/** Stream names Toxiproxy accepts, case-insensitively (the spelling given is kept). */
const STREAMS = new Map<string, Direction>([
  ["upstream", "upstream"],
  ["downstream", "downstream"],
]);

/**
 * Decodes a toxic's own attributes over `base`; unknown keys are ignored, as in Go.
 * @throws ApiError 400 for a value Go would not decode, or one the toxic refuses (see ToxicKind.validate).
 */
function attributesOf(
  kind: ToxicKind | HttpToxicKind,
  given: Record<string, unknown> | undefined,
  base: Toxic["attributes"],
): Toxic["attributes"] {
  if (kind.layer === "http") return kind.decode(given, base as Parameters<HttpToxicKind["decode"]>[1]);
  const attributes = { ...base } as Record<string, number>;
  for (const key of Object.keys(kind.defaults)) {
    const goType = kind.goType === "SlicerToxic" ? "int" : "int64";
    const value = given ? numberField(given, key, `${kind.goType}.attributes`, goType) : undefined;
    if (value !== undefined) attributes[key] = value;
  }
  const problem = kind.validate?.(attributes);
  if (problem) throw ErrBadRequestBody.join(`${kind.goType}: ${problem}`);
  return attributes;
}

/** Handlers of the toxic endpoints. Each throws ApiError for the answers that are errors. */
export function toxicHandlers(proxies: ProxyCollection) {
  return {
    index: async (proxy: string): Promise<Reply> =>
      json(200, proxies.get(proxy).toxics.list().map(toxicJson)),

    /** Envelope first (stream, name, type, uniqueness), then the type's own attributes, as Toxiproxy. */
    create: async (proxyName: string, body: string): Promise<Reply> => {
      const toxics = proxies.get(proxyName).toxics;
      const input = asStruct(decodeBody(body), "toxics.ToxicWrapper");
      const stream = stringField(input, "stream", "ToxicWrapper") ?? "downstream";
      const type = stringField(input, "type", "ToxicWrapper") ?? "";
      const toxicity = numberField(input, "toxicity", "ToxicWrapper", "float32") ?? 1;
      const direction = STREAMS.get(stream.toLowerCase());
      if (!direction) throw ErrInvalidStream;
      const name = stringField(input, "name", "ToxicWrapper") || `${type}_${stream}`;
      const kind = TOXICS.get(type);
      if (!kind) throw ErrInvalidToxicType;
      if (toxics.has(name)) throw ErrToxicAlreadyExists;
      const given = objectField(input, "attributes", "", `toxics.${kind.goType}`);
      const toxic = {
        name,
        type,
        stream,
        direction,
        toxicity,
        kind,
        attributes: attributesOf(kind, given, kind.defaults),
      } as Toxic;
      toxics.add(toxic);
      return json(200, toxicJson(toxic));
    },

    show: async (proxy: string, name: string): Promise<Reply> =>
      json(200, toxicJson(proxies.get(proxy).toxics.get(name))),

    /** Only `attributes` (merged over the current ones) and `toxicity` can change. */
    update: async (proxy: string, name: string, body: string): Promise<Reply> => {
      const toxics = proxies.get(proxy).toxics;
      const old = toxics.get(name);
      const input = asStruct(decodeBody(body), "struct { Attributes interface {}; Toxicity float32 }");
      const given = objectField(input, "attributes", "", `toxics.${old.kind.goType}`);
      const attributes = attributesOf(old.kind, given, old.attributes);
      const toxicity = numberField(input, "toxicity", "", "float32") ?? old.toxicity;
      return json(200, toxicJson(toxics.update(name, attributes, toxicity)));
    },

    remove: async (proxy: string, name: string): Promise<Reply> => {
      proxies.get(proxy).toxics.remove(name);
      return noContent();
    },
  };
}

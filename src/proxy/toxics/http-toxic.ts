import { ErrBadRequestBody } from "../api-error.js";
import { numberField, stringField } from "../go-json.js";
import type { Header } from "../http/head.js";
import { ANY, decodeMatch, type Match } from "../http/match.js";

/**
 * What the HTTP toxics of one stream make of one message (a request upstream, a response downstream).
 * Each matching toxic, in order, changes the plan; the HTTP stage then sends what the plan says:
 *
 *   message head ──▶ [toxic] ──▶ [toxic] ──▶ … ──▶ plan ──▶ held `delay` ms ──▶ sent (or answered, or aborted)
 */
export interface MessagePlan {
  /** Milliseconds the message is held before it goes on. */
  delay: number;
  /**
   * A status to answer with instead: a request is then answered by the proxy and never reaches the
   * upstream; a response from the upstream is replaced (its body discarded).
   */
  status?: number;
  /** The headers the message goes on with (those of the answer once `status` is set). */
  headers: Header[];
  headersChanged: boolean;
  /** A body replacing the message's own (sent with a correct Content-Length). */
  body?: Buffer;
  /** Close (or reset) the connection once `after` bytes of the message went on; later toxics do nothing. */
  abort?: { reset: boolean; after: number };
}

/** Attributes of an HTTP toxic: its own, and the request `match` every HTTP toxic has. */
export type HttpAttributes = { match: Match } & Record<string, unknown>;

/** One HTTP toxic type, as ToxicKind is for the byte toxics. Acts per request, never holds a stage. */
export interface HttpToxicKind {
  layer: "http";
  /** The name used in decoding error messages (`HttpStatusToxic`). */
  goType: string;
  defaults: HttpAttributes;
  /**
   * Decodes the toxic's own attributes (and `match`) over `base`; unknown keys are ignored, as Go does.
   * @throws ApiError 400 naming what is wrong.
   */
  decode(given: Record<string, unknown> | undefined, base: HttpAttributes): HttpAttributes;
  /** Changes the plan of one matching message (its toxicity already drawn). */
  apply(attributes: HttpAttributes, plan: MessagePlan): void;
}

/**
 * Builds an HTTP toxic kind from its own fields: `fields` decodes them (over the base) and may refuse a
 * value with a message answered as a 400.
 */
export function httpToxic(spec: {
  goType: string;
  defaults: Record<string, unknown>;
  fields(given: Record<string, unknown>, base: HttpAttributes): Record<string, unknown> | string;
  apply(attributes: HttpAttributes, plan: MessagePlan): void;
}): HttpToxicKind {
  return {
    layer: "http",
    goType: spec.goType,
    defaults: { ...spec.defaults, match: ANY },
    decode(given, base) {
      const struct = spec.goType;
      const match = decodeMatch(given?.match, base.match, struct);
      const own = spec.fields(given ?? {}, base);
      if (typeof own === "string") throw ErrBadRequestBody.join(`${struct}: ${own}`);
      return { ...base, ...own, match };
    },
    apply: spec.apply,
  };
}

/** An integer field of `given`, or the base's. @throws ApiError 400 for a value Go would not decode. */
export function intOf(
  given: Record<string, unknown>,
  key: string,
  base: HttpAttributes,
  struct: string,
): number {
  return numberField(given, key, `${struct}.attributes`, "int64") ?? (base[key] as number);
}

export function stringOf(
  given: Record<string, unknown>,
  key: string,
  base: HttpAttributes,
  struct: string,
): string {
  return stringField(given, key, `${struct}.attributes`) ?? (base[key] as string);
}

export function boolOf(given: Record<string, unknown>, key: string, base: HttpAttributes): boolean | string {
  const v = given[key];
  if (v === undefined || v === null) return base[key] as boolean;
  if (typeof v !== "boolean") return `${key} must be true or false`;
  return v;
}

/** Replaces every header of that name (or adds it). */
export function setHeader(plan: MessagePlan, name: string, value: string): void {
  const lower = name.toLowerCase();
  plan.headers = plan.headers.filter(([n]) => n.toLowerCase() !== lower);
  plan.headers.push([name, value]);
  plan.headersChanged = true;
}

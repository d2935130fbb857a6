import { ErrBadRequestBody } from "../api-error.js";
import { stringMap } from "../http/match.js";
import { httpToxic, setHeader } from "./http-toxic.js";

const NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers that frame the message: changing them would corrupt the connection, so they are refused. */
const FRAMING = new Set(["content-length", "transfer-encoding", "connection", "upgrade"]);

function names(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((n) => typeof n === "string" && NAME.test(n))) {
    throw ErrBadRequestBody.join("HttpHeaderToxic: remove must be a list of header names");
  }
  return value as string[];
}

/** Removes the headers named in `remove`, then replaces (`set`) and adds (`add`) headers of a matching message. */
export const httpHeader = httpToxic({
  goType: "HttpHeaderToxic",
  defaults: { set: {}, add: {}, remove: [] },
  fields(given, base) {
    const set = given.set == null ? base.set : stringMap(given.set, "set", "HttpHeaderToxic");
    const add = given.add == null ? base.add : stringMap(given.add, "add", "HttpHeaderToxic");
    const remove = given.remove == null ? base.remove : names(given.remove);
    const all = [...Object.keys(set as object), ...Object.keys(add as object), ...(remove as string[])];
    const framing = all.find((n) => FRAMING.has(n.toLowerCase()));
    if (framing) return `${framing} frames the message and cannot be changed (use http_body for the body)`;
    return { set, add, remove };
  },
  apply(a, plan) {
    const drop = new Set((a.remove as string[]).map((n) => n.toLowerCase()));
    if (drop.size > 0) plan.headers = plan.headers.filter(([n]) => !drop.has(n.toLowerCase()));
    for (const [name, value] of Object.entries(a.set as Record<string, string>)) setHeader(plan, name, value);
    for (const [name, value] of Object.entries(a.add as Record<string, string>))
      plan.headers.push([name, value]);
    plan.headersChanged = true;
  },
});

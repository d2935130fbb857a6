import { stringMap } from "../http/match.js";
import { httpToxic, intOf, stringOf } from "./http-toxic.js";

/**
 * Answers a matching request with `status`, `headers` and `body` instead of the upstream: upstream, the
 * request never reaches it; downstream, it does and its answer is replaced.
 */
export const httpStatus = httpToxic({
  goType: "HttpStatusToxic",
  defaults: { status: 500, headers: {}, body: "" },
  fields(given, base) {
    const status = intOf(given, "status", base, "HttpStatusToxic");
    if (status < 200 || status > 599) return `status must be between 200 and 599, not ${status}`;
    const headers =
      given.headers == null ? base.headers : stringMap(given.headers, "headers", "HttpStatusToxic");
    return { status, headers, body: stringOf(given, "body", base, "HttpStatusToxic") };
  },
  apply(a, plan) {
    plan.status = a.status as number;
    plan.headers = Object.entries(a.headers as Record<string, string>);
    plan.headersChanged = true;
    plan.body = Buffer.from(a.body as string);
  },
});

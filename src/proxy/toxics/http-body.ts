import { httpToxic, setHeader, stringOf } from "./http-toxic.js";

/**
 * Replaces the body of a matching message (the response downstream, the request upstream) with `body`,
 * sent with a correct Content-Length; `content_type`, when given, replaces the Content-Type.
 */
export const httpBody = httpToxic({
  goType: "HttpBodyToxic",
  defaults: { body: "", content_type: "" },
  fields: (given, base) => ({
    body: stringOf(given, "body", base, "HttpBodyToxic"),
    content_type: stringOf(given, "content_type", base, "HttpBodyToxic"),
  }),
  apply(a, plan) {
    plan.body = Buffer.from(a.body as string);
    if (a.content_type) setHeader(plan, "Content-Type", a.content_type as string);
  },
});

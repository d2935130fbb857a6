import { boolOf, httpToxic, intOf } from "./http-toxic.js";

/**
 * Closes the connection (a TCP RST with `reset`) when a matching request arrives (upstream), or once
 * `after` bytes of its response went to the client (downstream: 0 = before the status line).
 */
export const httpAbort = httpToxic({
  goType: "HttpAbortToxic",
  defaults: { reset: false, after: 0 },
  fields(given, base) {
    const reset = boolOf(given, "reset", base);
    if (typeof reset === "string") return reset;
    const after = intOf(given, "after", base, "HttpAbortToxic");
    if (after < 0) return "after cannot be negative";
    return { reset, after };
  },
  apply(a, plan) {
    plan.abort = { reset: a.reset as boolean, after: a.after as number };
  },
});

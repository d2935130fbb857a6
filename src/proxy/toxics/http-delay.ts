import { httpToxic, intOf } from "./http-toxic.js";

/** Holds a matching request (upstream) or its response (downstream) for `latency` ± `jitter` ms. */
export const httpDelay = httpToxic({
  goType: "HttpDelayToxic",
  defaults: { latency: 0, jitter: 0 },
  fields(given, base) {
    const latency = intOf(given, "latency", base, "HttpDelayToxic");
    const jitter = intOf(given, "jitter", base, "HttpDelayToxic");
    if (latency < 0 || jitter < 0) return "latency and jitter cannot be negative";
    return { latency, jitter };
  },
  apply(a, plan) {
    const jitter = a.jitter as number;
    const spread = jitter > 0 ? Math.floor(Math.random() * jitter * 2) - jitter : 0;
    plan.delay += Math.max(0, (a.latency as number) + spread);
  },
});

import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { prometheusAgent } from "./index.js";

const ajv = new Ajv2020({ strict: true, allErrors: true });

describe("the prometheus schemas", () => {
  it("accept a range query only with its aggregate, and no unknown keys", () => {
    const valid = ajv.compile(prometheusAgent.probes.query!.args);
    expect(
      valid({ query: "up", range: "30s", aggregate: "max", step: "1s", series: "each", timeout: "200ms" }),
    ).toBe(true);
    expect(valid({ query: "up", range: "30s" })).toBe(false);
    expect(valid({ query: "up", extra: 1 })).toBe(false);
    expect(valid({ query: "up", series: "median" })).toBe(false);
  });

  it("accept bearer or basic auth, and nothing in between", () => {
    const valid = ajv.compile(prometheusAgent.configuration!);
    expect(
      valid({ url: "https://p:9090", auth: { bearer: "t" }, ca: "/ca.pem", timeout: "2s", retries: 2 }),
    ).toBe(true);
    expect(valid({ auth: { basic: { username: "u", password: "p" } } })).toBe(true);
    expect(valid({ auth: { basic: { username: "u" } } })).toBe(false);
    expect(valid({ auth: { bearer: "t", basic: { username: "u", password: "p" } } })).toBe(false);
    expect(valid({ retries: -1 })).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { ChaosError } from "../../experiments/errors.js";
import { formatBytes, parseSize, resolveSize } from "./quantity.js";

describe("sizes", () => {
  it("reads Kubernetes quantities, binary and decimal, and plain bytes", () => {
    expect(parseSize("64Mi")).toEqual({ bytes: 64 * 2 ** 20 });
    expect(parseSize("1Gi")).toEqual({ bytes: 2 ** 30 });
    expect(parseSize("1.5Ki")).toEqual({ bytes: 1536 });
    expect(parseSize("500M")).toEqual({ bytes: 500e6 });
    expect(parseSize("2k")).toEqual({ bytes: 2000 });
    expect(parseSize("4096")).toEqual({ bytes: 4096 });
    expect(parseSize(4096)).toEqual({ bytes: 4096 });
  });

  it("reads a percent and resolves it against the whole it is a share of", () => {
    expect(parseSize("80%")).toEqual({ percent: 80 });
    expect(resolveSize({ percent: 50 }, 256 * 2 ** 20)).toBe(128 * 2 ** 20);
    expect(resolveSize({ bytes: 7 }, undefined)).toBe(7);
  });

  it("says how to write a size when it is not one", () => {
    for (const bad of ["64MB", "-1Mi", "1 Gib", "", "Mi", 1.5, "101%"]) {
      expect(() => parseSize(bad), String(bad)).toThrow(ChaosError);
    }
    expect(() => parseSize("64MB")).toThrow(/not a size: "64MB"/);
    expect(() => resolveSize({ percent: 10 }, undefined)).toThrow(/has nothing to be a percent of/);
  });

  it("prints bytes in binary units", () => {
    expect(formatBytes(256 * 2 ** 20)).toBe("256Mi");
    expect(formatBytes(1536)).toBe("1.5Ki");
    expect(formatBytes(12)).toBe("12B");
  });
});

import { ChaosError } from "../../experiments/errors.js";

/**
 * Sizes as Kubernetes writes them (`64Mi`, `1Gi`, `500M`, `1.5G`, `1048576`) or a percent (`80%`) of what
 * the target has: its memory limit, its filesystem.
 */

const SUFFIX: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};
const QUANTITY = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?\s*$/;
const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/** Pattern for the JSON Schemas: a quantity (`64Mi`, `1G`, `4096`) or a percent (`80%`). */
export const SIZE_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P|%)?\\s*$";

/** JSON Schema of a size: a quantity string, a percent string, or a plain number of bytes. */
export function sizeSchema(description: string) {
  return {
    anyOf: [
      { type: "string", pattern: SIZE_PATTERN },
      { type: "integer", minimum: 0 },
    ],
    description,
  } as const;
}

/** A size as written: bytes, or a share of something only known once the target is. */
export type Size = { bytes: number } | { percent: number };

/**
 * Reads `64Mi`, `1.5G`, `4096`, 4096 or `80%`.
 * @throws ChaosError("invalid") naming the value and how to write it; also for a percent above 100.
 */
export function parseSize(value: unknown, where = "size"): Size {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return { bytes: value };
  const text = typeof value === "string" ? value : "";
  const p = PERCENT.exec(text);
  if (p) {
    const percent = Number(p[1]);
    if (percent > 100)
      throw new ChaosError("invalid", `${where} ${text.trim()} is more than 100%`, {
        hint: "a percent is a share of the target's limit or filesystem: at most 100%",
      });
    return { percent };
  }
  const m = QUANTITY.exec(text);
  if (!m)
    throw new ChaosError("invalid", `${where}: not a size: ${JSON.stringify(value) ?? String(value)}`, {
      hint: "write a quantity like 64Mi, 1Gi, 500M, or a percent like 80%",
    });
  const bytes = Math.round(Number(m[1]) * SUFFIX[m[2] ?? ""]!);
  if (!Number.isSafeInteger(bytes))
    throw new ChaosError("invalid", `${where} ${text.trim()} is too large`, { hint: "write at most 8Pi" });
  return { bytes };
}

/** The bytes a size means, given the whole it may be a percent of (undefined when there is no such whole). */
export function resolveSize(size: Size, whole: number | undefined, where = "size"): number {
  if ("bytes" in size) return size.bytes;
  if (whole === undefined)
    throw new ChaosError("invalid", `${where} ${size.percent}% has nothing to be a percent of`, {
      hint: "the target has no limit: write a quantity like 256Mi",
    });
  return Math.floor((whole * size.percent) / 100);
}

/** 268435456 → "256Mi", 1500000 → "1.4Mi": binary units, at most one decimal, for messages. */
export function formatBytes(bytes: number): string {
  const units = ["", "Ki", "Mi", "Gi", "Ti", "Pi"];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const shown = i === 0 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
  return `${shown}${units[i]}${i === 0 ? "B" : ""}`;
}

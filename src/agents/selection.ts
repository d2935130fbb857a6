import { ChaosError } from "../experiments/errors.js";
import type { JsonSchema } from "./agent.js";

/**
 * Which of the matching targets an action touches — shared by every agent that can match several targets
 * (processes today; containers and pods next). Random choices come from a seedable source, so a run can be
 * replayed by giving the seed it logged, and `max` caps the blast radius: an action that would touch more
 * targets is refused before anything is touched.
 */
export interface Selection {
  mode: "one" | "all" | "count" | "percent";
  count?: number;
  percent?: number;
  seed?: number;
  max?: number;
}

export const selectionSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  description:
    "which matches to act on: one (at random), all, count N or percent P; max caps the blast radius",
  required: ["mode"],
  properties: {
    mode: { enum: ["one", "all", "count", "percent"] },
    count: { type: "integer", minimum: 1, description: "with mode count: how many, at random" },
    percent: {
      type: "number",
      exclusiveMinimum: 0,
      maximum: 100,
      description: "with mode percent: how many, rounded up",
    },
    seed: { type: "integer", minimum: 0, description: "seed of the random choice, to replay a run" },
    max: { type: "integer", minimum: 1, description: "refuse to act on more targets than this" },
  },
  // A mode that needs a number without it is an error when the experiment is validated, not mid-run.
  allOf: ["count", "percent"].map((mode) => ({
    if: { properties: { mode: { const: mode } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
    then: { required: [mode], properties: { [mode]: true } },
  })),
};

/** mulberry32: small, fast and good enough to pick targets reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Chooses targets among `candidates` (which must already be in a stable order, e.g. sorted by id).
 * @returns the chosen targets and the seed used (the given one, or a fresh one to log for a replay).
 * @throws ChaosError("invalid") when count/percent is missing for its mode;
 *         ChaosError("agent") when the choice would exceed `max` (nothing is touched then).
 */
export function selectTargets<T>(
  candidates: readonly T[],
  selection: Selection,
): { chosen: T[]; seed: number } {
  const seed = selection.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = seededRandom(seed);
  let size: number;
  switch (selection.mode) {
    case "all":
      size = candidates.length;
      break;
    case "one":
      size = Math.min(1, candidates.length);
      break;
    case "count":
      if (selection.count === undefined)
        throw new ChaosError("invalid", "select mode count needs count", { hint: "add count: N" });
      size = Math.min(selection.count, candidates.length);
      break;
    case "percent":
      if (selection.percent === undefined) {
        throw new ChaosError("invalid", "select mode percent needs percent", {
          hint: "add percent: P (0 < P ≤ 100)",
        });
      }
      size = Math.min(
        candidates.length,
        Math.max(1, Math.ceil((candidates.length * selection.percent) / 100)),
      );
      break;
  }
  if (selection.max !== undefined && size > selection.max) {
    throw new ChaosError(
      "agent",
      `the selection would touch ${size} targets, more than max ${selection.max}`,
      {
        hint: "narrow the target, lower count/percent, or raise max if that blast radius is intended",
      },
    );
  }
  if (size === candidates.length) return { chosen: [...candidates], seed };
  // Partial Fisher–Yates: the first `size` entries of the shuffled copy.
  const pool = [...candidates];
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return { chosen: pool.slice(0, size), seed };
}

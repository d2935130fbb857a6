import { durationOf, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition } from "../agent.js";
import { cgroupsOf, memoryOf } from "./cgroup.js";
import { deadlineArg, prepareStressFault } from "./fault.js";
import { formatBytes, parseSize, resolveSize, sizeSchema } from "./quantity.js";
import { CONTROLLERS, logTarget, resolveStressTarget, type StressTarget, targetSchema } from "./target.js";
import { hostMemory } from "./usage.js";

/** Memory a stress leaves free under a limit: a tenth of it, at least 32Mi. */
export function memoryMargin(limit: number): number {
  return Math.max(32 * 2 ** 20, Math.floor(limit / 10));
}

/** What a size is a percent of, and how much may be asked without `force`. */
export interface MemoryRoom {
  /** The target's limit (the machine's memory when it has none). */
  whole: number;
  /** The most a stressor may hold: the limit minus what is in use minus the margin. */
  room: number;
  /** How the room was worked out, for the refusal. */
  explain: string;
}

/**
 * The room under the target's memory limit, or under the machine's available memory when it has none (and
 * under the run's own cgroup's limit for the host, where the stressor stays with the run).
 * @throws ChaosError("agent") when neither the cgroup nor /proc/meminfo can be read.
 */
export async function memoryRoom(target: StressTarget): Promise<MemoryRoom> {
  const host = await hostMemory();
  const cgroup = await memoryOf(target.kind === "host" ? await cgroupsOf("self") : target.cgroups);
  const limited = (reading: typeof cgroup, who: string): MemoryRoom | undefined => {
    if (reading?.limit === undefined) return undefined;
    const margin = memoryMargin(reading.limit);
    return {
      whole: reading.limit,
      room: reading.limit - reading.workingSet - margin,
      explain: `${who} limit ${formatBytes(reading.limit)}, in use ${formatBytes(reading.workingSet)}, margin ${formatBytes(margin)}`,
    };
  };
  const own = limited(cgroup, target.kind === "host" ? "the run's cgroup:" : `${target.label}:`);
  if (own && target.kind !== "host") return own;
  if (!host) {
    throw new ChaosError("agent", "cannot read /proc/meminfo to size the memory stress", {
      hint: "memory stress needs Linux's /proc",
    });
  }
  const margin = memoryMargin(host.total);
  const machine: MemoryRoom = {
    whole: host.total,
    room: host.available - margin,
    explain: `the machine: ${formatBytes(host.available)} available of ${formatBytes(host.total)}, margin ${formatBytes(margin)}`,
  };
  return own && own.room < machine.room ? { ...own, whole: machine.whole } : machine;
}

/** Holds memory in the target's cgroup, at once or growing like a leak; the revert frees it (stops it). */
export const memoryAction: ActionDefinition = {
  name: "memory",
  description:
    "hold memory inside the target's cgroup (or on the host) for the fault's duration, optionally growing like a leak",
  target: targetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    required: ["size"],
    properties: {
      size: sizeSchema("bytes to hold: 256Mi, 1Gi, or a percent of the target's memory limit (80%)"),
      "grow-over": durationOf(
        "length",
        "reach the size gradually over this long, like a leak (default: at once)",
      ),
      force: {
        type: "boolean",
        default: false,
        description:
          "allow more than the target's limit (or available memory) minus a margin: may OOM-kill it",
      },
      deadline: deadlineArg,
    },
  },
  /**
   * @throws ChaosError("invalid") for a bad size, or one above the room under the limit without `force`;
   * ChaosError("agent") when the target cannot be found.
   */
  async prepare(input, ctx) {
    const size = parseSize(input.args.size);
    const growOverMs = input.args["grow-over"] === undefined ? 0 : parseDuration(input.args["grow-over"]);
    const target = await resolveStressTarget(input.target, ctx, CONTROLLERS.memory);
    logTarget(ctx.log, target);
    const room = await memoryRoom(target);
    const bytes = resolveSize(size, room.whole);
    if (bytes > room.room && input.args.force !== true) {
      throw new ChaosError(
        "invalid",
        `size ${formatBytes(bytes)} is more than the ${formatBytes(Math.max(0, room.room))} ${target.label} can take (${room.explain})`,
        {
          hint: "ask for less, or set force: true to go past the margin (the kernel may then OOM-kill the target)",
        },
      );
    }
    return prepareStressFault({
      kind: "memory",
      target,
      input,
      ctx,
      description: `holding ${formatBytes(bytes)} on ${target.label}`,
      spec: { bytes, growOverMs },
      waitHeldMs: growOverMs > 0 ? undefined : 60_000,
      output: { bytes, size: formatBytes(bytes), ...(growOverMs ? { growOver: `${growOverMs}ms` } : {}) },
    });
  },
};

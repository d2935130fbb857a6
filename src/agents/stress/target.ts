import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import type { AgentContext, JsonSchema } from "../agent.js";
import { type Cgroups, insideTargetSchema, readInsideTarget, resolveInside } from "../inside/index.js";
import { lockKeys } from "../process/signal.js";
import { type CgroupSet, cgroupMounts, cgroupsOf, locate, pathOf } from "./cgroup.js";

/**
 * What a stress fault (or a usage probe) acts on: nothing (the host), or one of the shared forms of a target
 * a fault acts inside of (`src/agents/inside/`): `{ process: { pid | pid-file | name | port } }`,
 * `{ container: NAME }`. A process or a container is reduced to its cgroups, which the stressor joins so that
 * it competes inside the same limits.
 */
export const targetSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  description: "omit for the host; else one of process, container",
  properties: (insideTargetSchema as { properties: Record<string, JsonSchema> }).properties,
  maxProperties: 1,
};

/** A target reduced to what a stressor needs. */
export interface StressTarget {
  /** "the host", "pid 4242 (node)", "container payments (pid 4242)": for messages and the ledger. */
  label: string;
  kind: "host" | "process" | "container";
  /** The process whose cgroups are the target's (none for the host). */
  pid?: number;
  /** Where the target sits; for the host, where this process sits. */
  cgroups: CgroupSet;
  /** Whether a stressor must move into `cgroups` (not for the host: it stays where the run is). */
  join: boolean;
  locks: string[];
}

/** The cgroup controllers a kind of stress competes in. */
export const CONTROLLERS: Record<"cpu" | "memory" | "disk", string[]> = {
  cpu: ["cpu", "cpuacct"],
  memory: ["memory"],
  disk: ["blkio", "io"],
};

/** The shared module's cgroup paths ("cpu,cpuacct" ▶ path) as folders per controller. */
async function folders(cgroups: Cgroups): Promise<CgroupSet> {
  const v1: Record<string, string> = {};
  for (const [controllers, path] of Object.entries(cgroups.v1))
    for (const c of controllers.split(",")) v1[c] = path;
  return locate({ v1, v2: cgroups.v2 }, await cgroupMounts());
}

/**
 * Resolves a validated target block, touching nothing.
 * @throws ChaosError("agent") when the process or container cannot be found or is not running, or names
 * several; ChaosError("invalid") when it is the toolkit itself, or sits in the toolkit's own cgroup for
 * `controllers`.
 */
export async function resolveStressTarget(
  raw: Record<string, unknown> | undefined,
  ctx: AgentContext,
  controllers: string[],
): Promise<StressTarget> {
  const own = await cgroupsOf("self");
  if (!raw || Object.keys(raw).length === 0) {
    return { label: "the host", kind: "host", cgroups: own, join: false, locks: [] };
  }
  const found = await resolveInside(readInsideTarget(raw), ctx);
  if (found.length !== 1) {
    throw new ChaosError(
      "agent",
      `the target names ${found.length} processes: ${found.map((t) => t.label).join(", ")}`,
      {
        hint: "a stress fault acts inside one target's cgroups: narrow the target (one stress step per target)",
      },
    );
  }
  const t = found[0]!;
  const target: StressTarget = {
    label: t.label,
    kind: t.container ? "container" : "process",
    pid: t.identity.pid,
    cgroups: await folders(t.cgroups),
    join: true,
    // Not the namespace's lease: pressure on a process may well come together with a network fault on it.
    locks: t.container
      ? t.locks.filter((k) => !k.startsWith("netns:"))
      : lockKeys([t.identity], t.identity.bootId),
  };
  refuseOwnCgroup(target, own, controllers);
  return target;
}

/**
 * A stressor in the toolkit's own cgroup would starve the run that must revert it: refused. The root cgroup
 * is not "own" (everything unconfined sits there; the target then simply has no limit of that kind).
 */
function refuseOwnCgroup(target: StressTarget, own: CgroupSet, controllers: string[]): void {
  for (const c of controllers) {
    const theirs = pathOf(target.cgroups, c);
    const ours = pathOf(own, c);
    if (theirs !== undefined && theirs !== "/" && theirs === ours) {
      throw new ChaosError("invalid", `${target.label} shares the toolkit's own ${c} cgroup (${theirs})`, {
        hint: "the stressor would compete with the run that must stop it; put the target in a cgroup of its own",
      });
    }
  }
}

/** Logs where a target sits, once resolved. */
export function logTarget(log: Logger, target: StressTarget): void {
  log.info(
    { target: target.label, cgroups: target.cgroups.v1Paths, v2: target.cgroups.v2Path },
    "stress target",
  );
}

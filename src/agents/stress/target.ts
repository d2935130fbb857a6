import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import type { AgentContext, JsonSchema } from "../agent.js";
import { reasonOf } from "../docker/engine.js";
import { engineFor, lockKey } from "../docker/session.js";
import { findContainers } from "../docker/target.js";
import { readBootId, readStat } from "../process/proc.js";
import { lockKeys } from "../process/signal.js";
import {
  targetSchema as processSchema,
  readTarget as readProcessTarget,
  resolveTargets,
} from "../process/target.js";
import { type CgroupSet, cgroupsOf, pathOf } from "./cgroup.js";

/**
 * What a stress fault (or a usage probe) acts on: nothing (the host), `{ process: { pid | pid-file | name |
 * port } }` or `{ container: NAME }`. A process or a container is reduced to its cgroups, which the stressor
 * joins so that it competes inside the same limits.
 */
const processForm = processSchema.properties as Record<string, unknown>;
export const targetSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  description: "omit for the host; else one of process, container",
  properties: {
    process: {
      type: "object",
      additionalProperties: false,
      description: "a local process, as the process agent names it; the stressor joins its cgroups",
      properties: {
        "pid-file": processForm["pid-file"],
        name: processForm.name,
        port: processForm.port,
        pid: processForm.pid,
      },
      oneOf: ["pid-file", "name", "port", "pid"].map((k) => ({ required: [k], properties: { [k]: true } })),
    },
    container: {
      type: "string",
      minLength: 1,
      description:
        "the exact name of a running container on the local Docker engine; the stressor joins its cgroups",
    },
  },
  maxProperties: 1,
};

/** A target reduced to what a stressor needs. */
export interface StressTarget {
  /** "the host", "pid 4242 (node)", "container payments": for messages and the ledger. */
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

/**
 * Resolves a validated target block, touching nothing.
 * @throws ChaosError("agent") when the process or container cannot be found or is not running;
 * ChaosError("invalid") when it is the toolkit itself, or sits in the toolkit's own cgroup for `controllers`.
 */
export async function resolveStressTarget(
  raw: Record<string, unknown> | undefined,
  ctx: AgentContext,
  controllers: string[],
): Promise<StressTarget> {
  const own = await cgroupsOf("self");
  if (raw?.process) {
    const [p] = await resolveTargets(readProcessTarget(raw.process as Record<string, unknown>), ctx.log);
    const found = p!;
    const target: StressTarget = {
      label: `pid ${found.pid} (${found.comm})`,
      kind: "process",
      pid: found.pid,
      cgroups: await cgroupsOf(found.pid),
      join: true,
      locks: lockKeys([found], await readBootId()),
    };
    refuseOwnCgroup(target, own, controllers);
    return target;
  }
  if (typeof raw?.container === "string") {
    const target = await containerTarget(raw.container, ctx);
    refuseOwnCgroup(target, own, controllers);
    return target;
  }
  return { label: "the host", kind: "host", cgroups: own, join: false, locks: [] };
}

async function containerTarget(name: string, ctx: AgentContext): Promise<StressTarget> {
  const engine = await engineFor(ctx);
  if (!engine.spec.host.startsWith("unix://")) {
    throw new ChaosError(
      "invalid",
      `container ${name}: the engine at ${engine.spec.host} is not on this machine`,
      {
        hint: "stress joins a container's cgroups, so it needs the engine's local socket (unix://)",
      },
    );
  }
  const [found] = (await findContainers(engine, { name, all: false }, ctx.signal)).filter(
    (c) => c.name === name,
  );
  if (!found) {
    throw new ChaosError("agent", `no container named ${name}`, { hint: "check the name with `docker ps`" });
  }
  let pid: number;
  try {
    const info = await engine.call(`inspect ${name}`, ctx.signal, (abortSignal) =>
      engine.docker.getContainer(found.id).inspect({ abortSignal }),
    );
    pid = info.State.Running ? info.State.Pid : 0;
  } catch (err) {
    if (err instanceof ChaosError) throw err;
    throw new ChaosError("agent", `cannot inspect container ${name}: ${reasonOf(err)}`, { cause: err });
  }
  if (!(pid > 0) || !(await readStat(pid))) {
    throw new ChaosError("agent", `container ${name} is not running (${found.state})`, {
      hint: "start it first; nothing was touched",
    });
  }
  return {
    label: `container ${name}`,
    kind: "container",
    pid,
    cgroups: await cgroupsOf(pid),
    join: true,
    locks: [lockKey(engine, found.id)],
  };
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

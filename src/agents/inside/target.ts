import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import type { AgentContext, JsonSchema } from "../agent.js";
import { reasonOf } from "../docker/engine.js";
import { lockKey as containerLockKey, engineFor } from "../docker/session.js";
import { resolveTargets as resolveContainers } from "../docker/target.js";
import { podTargetProperty } from "../kubernetes/ephemeral.js";
import { parseListeningInodes, pidsHoldingSockets } from "../process/ports.js";
import { listPids } from "../process/proc.js";
import {
  allWithSelect,
  describeTarget as describeProcess,
  type ProcessTarget,
  targetSchema as processSchema,
  readTarget as readProcessTarget,
  resolveTargets as resolveProcesses,
} from "../process/target.js";
import {
  type Cgroups,
  type InsideIdentity,
  identify,
  netnsLockKey,
  readCgroups,
  readNetns,
} from "./identity.js";

/**
 * The targets a fault acts *inside* of (its network namespace, its cgroups), named as an experiment names
 * them:
 *
 *   { process: { pid | pid-file | name | port, all?, select? } }   the process agent's forms
 *   { container: NAME }                                          the docker agent's lookup (exact name or regex)
 *
 * Each resolves to live processes with what a revert needs to find them again (pid, start time, boot id,
 * namespace inode) and their cgroups, touching nothing.
 */

const processProperties = Object.fromEntries(
  Object.entries((processSchema as { properties: Record<string, JsonSchema> }).properties).filter(
    ([k]) => !["start", "cwd", "env"].includes(k),
  ),
);

/** JSON Schema of the `target` block of an action that works inside its target. */
export const insideTargetSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    process: {
      type: "object",
      additionalProperties: false,
      properties: processProperties,
      oneOf: ["pid-file", "name", "port", "pid"].map((k) => ({ required: [k], properties: { [k]: true } })),
      not: allWithSelect,
      description: "a local process, as the process agent names it",
    },
    container: {
      type: "string",
      minLength: 1,
      description: "a running container on the Docker engine: exact name, or a regex over names",
    },
    // Network and stress faults run inside a pod through an ephemeral container (kubernetes/ephemeral.ts).
    pod: podTargetProperty,
  },
  oneOf: ["process", "container", "pod"].map((k) => ({ required: [k], properties: { [k]: true } })),
};

export type InsideTargetSpec = { process: ProcessTarget } | { container: string };

/**
 * Reads a validated target block.
 * @throws ChaosError("invalid") when it names neither or both forms, or a regex is malformed.
 */
export function readInsideTarget(raw: Record<string, unknown>): InsideTargetSpec {
  if (raw.pod !== undefined) {
    throw new ChaosError("invalid", "a pod target is for faults, not here", {
      hint: "target a process or a container; for a pod's usage, use the kubernetes agent's probes",
    });
  }
  const hasProcess = raw.process !== undefined;
  const hasContainer = raw.container !== undefined;
  if (hasProcess === hasContainer) {
    throw new ChaosError("invalid", "a target needs exactly one of process, container", {
      hint: "e.g. target: { process: { port: 9001 } } or target: { container: payments }",
    });
  }
  if (hasContainer) {
    if (typeof raw.container !== "string" || raw.container === "")
      throw new ChaosError("invalid", "target.container must be a container name");
    return { container: raw.container };
  }
  return { process: readProcessTarget(raw.process as Record<string, unknown>) };
}

/** "process name /payments/", "container payments" — for messages. */
export function describeInsideTarget(t: InsideTargetSpec): string {
  return "container" in t ? `container ${t.container}` : `process ${describeProcess(t.process)}`;
}

/** One process a fault acts inside of. */
export interface InsideTarget {
  /** For humans and the journal: "pid 4242 (node)", "container payments (pid 4242)". */
  label: string;
  identity: InsideIdentity;
  cgroups: Cgroups;
  /** The container it is the init process of, for container targets. */
  container?: { engine: string; id: string; name: string };
  /** Lease keys: the namespace's, and the container's for container targets. */
  locks: string[];
}

/**
 * Inodes of TCP sockets listening on `port` at a local address, in every network namespace (the process
 * agent's lookup sees only this process's own namespace). Socket inodes are unique machine-wide, so
 * `pidsHoldingSockets` finds their owners wherever they live.
 */
export async function listeningInodesAnywhere(port: number): Promise<Set<string>> {
  const seen = new Set<number>();
  const inodes = new Set<string>();
  for (const pid of await listPids()) {
    const netns = await readNetns(pid);
    if (netns === undefined || seen.has(netns)) continue;
    seen.add(netns);
    for (const file of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
      const text = await readFile(file, "utf8").catch(() => "");
      for (const inode of parseListeningInodes(text, port)) inodes.add(inode);
    }
  }
  return inodes;
}

/**
 * The pids a process target names. A `port` is looked up in every network namespace (the service under test
 * often lives in one of its own); the other forms are the process agent's own lookup.
 * @throws what the process agent's `resolveTargets` throws, with the same rules for several matches.
 */
async function resolveProcessTargets(target: ProcessTarget, log: Logger): Promise<number[]> {
  if (target.port === undefined) return (await resolveProcesses(target, log)).map((p) => p.pid);
  const owners = await pidsHoldingSockets(await listeningInodesAnywhere(target.port));
  if (owners.length === 0) {
    throw new ChaosError("agent", `no process listens on port ${target.port} in any network namespace`, {
      hint: "is it running? a process target by port needs a listening TCP socket",
    });
  }
  const chosen: number[] = [];
  for (const pid of owners.sort((a, b) => a - b)) {
    // The process agent's rules (never this process or an ancestor, one match unless all/select) apply.
    const [p] = await resolveProcesses({ pid, all: false }, log).catch((err) => {
      if (err instanceof ChaosError && err.code === "invalid") throw err;
      return []; // exited since the lookup
    });
    if (p) chosen.push(p.pid);
  }
  if (chosen.length > 1 && !target.all && !target.select) {
    throw new ChaosError(
      "agent",
      `${chosen.length} processes listen on port ${target.port}: ${chosen.join(", ")}`,
      {
        hint: "narrow the target, set all: true to act on every match, or select: { mode: one | count | percent }",
      },
    );
  }
  if (chosen.length === 0) throw new ChaosError("agent", `the processes on port ${target.port} are gone`);
  return chosen;
}

/**
 * The running container's init process, through the docker agent's lookup and engine.
 * @throws ChaosError("agent") when the engine is unreachable, nothing (or several) running match, or the
 * engine reports no pid.
 */
async function resolveContainer(
  name: string,
  ctx: AgentContext,
): Promise<{ pid: number; container: NonNullable<InsideTarget["container"]>; lock: string }> {
  const engine = await engineFor(ctx);
  const { chosen } = await resolveContainers(
    engine,
    { name, all: false },
    { verb: "faulted from inside", acts: (state) => state === "running" },
    ctx.signal,
    ctx.log,
  );
  const c = chosen[0]!;
  let pid: number | undefined;
  try {
    const info = await engine.call(`inspect ${c.name}`, ctx.signal, (abortSignal) =>
      engine.docker.getContainer(c.id).inspect({ abortSignal }),
    );
    pid = info.State?.Pid;
  } catch (err) {
    if (err instanceof ChaosError) throw err;
    throw new ChaosError("agent", `cannot inspect container ${c.name}: ${reasonOf(err)}`, { cause: err });
  }
  if (!pid) {
    throw new ChaosError("agent", `container ${c.name} has no process on this machine`, {
      hint: "a fault inside a container needs the engine to run on this machine (its init pid is entered)",
    });
  }
  return {
    pid,
    container: { engine: engine.id, id: c.id, name: c.name },
    lock: containerLockKey(engine, c.id),
  };
}

/**
 * Every process the target names, with its identity and cgroups, touching nothing.
 * @throws ChaosError("agent") when nothing matches, several match without all/select, a process vanished
 * while it was read, or the Docker engine cannot be reached; ChaosError("invalid") for the chaos process
 * itself or an ancestor.
 */
export async function resolveInside(spec: InsideTargetSpec, ctx: AgentContext): Promise<InsideTarget[]> {
  const found: { pid: number; container?: InsideTarget["container"]; lock?: string }[] =
    "container" in spec
      ? [await resolveContainer(spec.container, ctx)]
      : (await resolveProcessTargets(spec.process, ctx.log)).map((pid) => ({ pid }));
  const out: InsideTarget[] = [];
  for (const f of found) {
    const [identity, cgroups] = await Promise.all([identify(f.pid), readCgroups(f.pid)]);
    if (!identity || !cgroups) {
      throw new ChaosError(
        "agent",
        `pid ${f.pid} exited (or hides its namespaces) while it was being resolved`,
        {
          hint: "run chaos as root; a target must stay up while it is faulted",
        },
      );
    }
    const label = f.container
      ? `container ${f.container.name} (pid ${f.pid})`
      : `pid ${f.pid} (${identity.comm})`;
    out.push({
      label,
      identity,
      cgroups,
      container: f.container,
      locks: [netnsLockKey(identity), ...(f.lock ? [f.lock] : [])],
    });
  }
  return out;
}

/** Targets grouped by network namespace: several processes sharing one namespace get one set of rules. */
export function byNamespace(targets: InsideTarget[]): InsideTarget[][] {
  const groups = new Map<number, InsideTarget[]>();
  for (const t of targets) groups.set(t.identity.netns, [...(groups.get(t.identity.netns) ?? []), t]);
  return [...groups.values()];
}

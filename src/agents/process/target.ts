import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import type { JsonSchema } from "../agent.js";
import { type Selection, selectionSchema, selectTargets } from "../selection.js";
import { listeningInodes, pidsHoldingSockets } from "./ports.js";
import { listPids, type ProcStat, readCmdline, readStat, selfAndAncestors } from "./proc.js";

/** Linux's largest possible pid (`PID_MAX_LIMIT` on 64-bit kernels): a larger pid names no process anywhere. */
export const PID_MAX_LIMIT = 4194304;

/** `all: true` beside `select`: two answers to "which matches", refused where the experiment is validated. */
export const allWithSelect: JsonSchema = {
  description: "all: true and select cannot be used together (select: { mode: all } acts on every match)",
  required: ["all", "select"],
  properties: { all: { const: true }, select: true },
};

/**
 * How an experiment names processes, shared by every action and the `running` probe: exactly one of
 * `pid-file`, `name`, `port`, `pid`, plus what `restart` needs to start it again.
 */
export const targetSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    "pid-file": { type: "string", minLength: 1, description: "a file holding the pid" },
    name: {
      type: "string",
      minLength: 1,
      $comment: "regex",
      description: "a regex matched against the command line",
    },
    port: { type: "integer", minimum: 1, maximum: 65535, description: "the TCP port the process listens on" },
    pid: { type: "integer", minimum: 1, maximum: PID_MAX_LIMIT, description: "a process id" },
    start: {
      type: "array",
      minItems: 1,
      items: { type: "string" },
      description: "argv to start the process again (restart); never a shell string",
    },
    cwd: { type: "string", description: "working directory for start" },
    env: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "extra environment for start",
    },
    all: { type: "boolean", default: false, description: "act on every match when several processes match" },
    select: selectionSchema,
  },
  // `properties: { k: true }` repeats the key so that Ajv's strict mode sees the required key defined.
  oneOf: ["pid-file", "name", "port", "pid"].map((k) => ({ required: [k], properties: { [k]: true } })),
  not: allWithSelect,
};

export interface ProcessTarget {
  pidFile?: string;
  name?: string;
  port?: number;
  pid?: number;
  start?: string[];
  cwd?: string;
  env?: Record<string, string>;
  all: boolean;
  select?: Selection;
}

/**
 * Reads a validated target block.
 * @throws ChaosError("invalid") when it names no process, or `name` is not a valid regex.
 */
export function readTarget(raw: Record<string, unknown>): ProcessTarget {
  const target: ProcessTarget = {
    pidFile: raw["pid-file"] as string | undefined,
    name: raw.name as string | undefined,
    port: raw.port as number | undefined,
    pid: raw.pid as number | undefined,
    start: raw.start as string[] | undefined,
    cwd: raw.cwd as string | undefined,
    env: raw.env as Record<string, string> | undefined,
    all: raw.all === true,
    select: raw.select as Selection | undefined,
  };
  const kinds = [target.pidFile, target.name, target.port, target.pid].filter((k) => k !== undefined);
  if (kinds.length !== 1) {
    throw new ChaosError("invalid", "a process target needs exactly one of pid-file, name, port, pid");
  }
  if (target.name !== undefined) nameRegex(target.name);
  return target;
}

function nameRegex(name: string): RegExp {
  try {
    return new RegExp(name);
  } catch (err) {
    throw new ChaosError("invalid", `process name ${JSON.stringify(name)} is not a valid regex`, {
      cause: err,
    });
  }
}

/** "name /payments/", "port 8080", "pid 42", "pid-file /run/app.pid" — for messages. */
export function describeTarget(t: ProcessTarget): string {
  if (t.pidFile !== undefined) return `pid-file ${t.pidFile}`;
  if (t.name !== undefined) return `name /${t.name}/`;
  if (t.port !== undefined) return `port ${t.port}`;
  return `pid ${t.pid}`;
}

async function live(pids: number[]): Promise<ProcStat[]> {
  const stats = await Promise.all(pids.map(readStat));
  return stats.filter((s): s is ProcStat => s !== undefined && s.state !== "Z" && s.state !== "X");
}

async function pidFromFile(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ChaosError("agent", `cannot read pid-file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new ChaosError("agent", `pid-file ${file} does not hold a pid`, {
      hint: "it should hold one number",
    });
  }
  return pid;
}

/**
 * Every live process (zombies excluded) the target names, possibly none. A `name` never matches this
 * process or its ancestors, whose command lines would otherwise contain the pattern itself.
 * @throws ChaosError("agent") when a pid-file is unreadable or malformed, or a port is listened on by a
 * process this user may not inspect.
 */
export async function findProcesses(target: ProcessTarget): Promise<ProcStat[]> {
  if (target.pid !== undefined) return live([target.pid]);
  if (target.pidFile !== undefined) {
    const pid = await pidFromFile(target.pidFile);
    return pid === undefined ? [] : live([pid]);
  }
  if (target.port !== undefined) {
    const inodes = await listeningInodes(target.port);
    const owners = await pidsHoldingSockets(inodes);
    if (inodes.size > 0 && owners.length === 0) {
      throw new ChaosError(
        "agent",
        `port ${target.port} is listened on by a process that cannot be inspected`,
        {
          hint: "run chaos as the user owning that process (or root)",
        },
      );
    }
    return live(owners);
  }
  const pattern = nameRegex(target.name ?? "");
  const excluded = await selfAndAncestors();
  const candidates = (await listPids()).filter((pid) => !excluded.has(pid));
  const cmdlines = await Promise.all(candidates.map(readCmdline));
  return live(candidates.filter((_, i) => cmdlines[i] && pattern.test(cmdlines[i])));
}

function list(processes: ProcStat[]): string {
  const shown = processes.slice(0, 10).map((p) => `${p.pid} (${p.comm})`);
  return (
    shown.join(", ") + (processes.length > shown.length ? `, … ${processes.length - shown.length} more` : "")
  );
}

/**
 * The processes an action will touch: at least one; several only with `all: true`; never this process or
 * one of its ancestors.
 * @throws ChaosError("agent") when nothing matches or several match without `all`; ChaosError("invalid")
 * when the target is this process or an ancestor; whatever `findProcesses` throws.
 */
export async function resolveTargets(target: ProcessTarget, log?: Logger): Promise<ProcStat[]> {
  const found = await findProcesses(target);
  const what = describeTarget(target);
  if (found.length === 0) {
    throw new ChaosError("agent", `no process matches ${what}`, {
      hint: "is it running? check the target with the `running` probe",
    });
  }
  if (found.length > 1 && !target.all && !target.select) {
    throw new ChaosError("agent", `${found.length} processes match ${what}: ${list(found)}`, {
      hint: "narrow the target, set all: true to act on every match, or select: { mode: one | count | percent }",
    });
  }
  let chosen = found;
  if (target.select) {
    const { chosen: picked, seed } = selectTargets(
      [...found].sort((a, b) => a.pid - b.pid),
      target.select,
    );
    chosen = picked;
    log?.info(
      { target: what, matched: found.length, chosen: picked.map((p) => p.pid), seed },
      "processes selected",
    );
  }
  const self = await selfAndAncestors();
  const own = found.filter((p) => self.has(p.pid));
  if (own.length > 0) {
    throw new ChaosError("invalid", `${what} matches the chaos process itself or its parent: ${list(own)}`, {
      hint: "a run cannot roll back faults once it is stopped or killed",
    });
  }
  return chosen;
}

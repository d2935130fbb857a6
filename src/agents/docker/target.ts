import type { ContainerInfo } from "dockerode";
import type { Logger } from "pino";
import { ChaosError } from "../../experiments/errors.js";
import type { JsonSchema } from "../agent.js";
import { type Selection, selectionSchema, selectTargets } from "../selection.js";
import { type Engine, reasonOf } from "./engine.js";

/**
 * How an experiment names containers: exactly one of `name`, `id`, `labels`. A `name` made only of the
 * characters Docker allows in names is matched exactly; any other `name` is a regex over container names
 * (`^payments-\d+$`). `labels` must all match (Compose sets `com.docker.compose.service` and
 * `com.docker.compose.project`).
 */
export const targetSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, description: "exact container name, or a regex over names" },
    id: { type: "string", pattern: "^[0-9a-f]{6,64}$", description: "container id or a unique prefix" },
    labels: {
      type: "object",
      minProperties: 1,
      additionalProperties: { type: "string" },
      description: "labels every matched container carries, e.g. { com.docker.compose.service: orders }",
    },
    all: { type: "boolean", default: false, description: "act on every match when several containers match" },
    select: selectionSchema,
  },
  oneOf: ["name", "id", "labels"].map((k) => ({ required: [k], properties: { [k]: true } })),
};

export interface ContainerTarget {
  name?: string;
  id?: string;
  labels?: Record<string, string>;
  all: boolean;
  select?: Selection;
}

/** One container as the agent sees it: enough to act on it and to name it in messages. */
export interface Container {
  id: string;
  name: string;
  /** created, running, paused, restarting, removing, exited, dead. */
  state: string;
}

const EXACT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Whether a target names one container by itself (an exact name or an id), rather than a set. */
export function namesOne(t: ContainerTarget): boolean {
  return t.id !== undefined || (t.name !== undefined && EXACT_NAME.test(t.name));
}

function nameRegex(name: string): RegExp {
  try {
    return new RegExp(name);
  } catch (err) {
    throw new ChaosError("invalid", `container name ${JSON.stringify(name)} is not a valid regex`, {
      cause: err,
      hint: "an exact name uses only letters, digits, _ . and -; anything else is read as a regex",
    });
  }
}

/** Reads a validated target block. @throws ChaosError("invalid") for none or several kinds, or a bad regex. */
export function readTarget(raw: Record<string, unknown>): ContainerTarget {
  const target: ContainerTarget = {
    name: raw.name as string | undefined,
    id: raw.id as string | undefined,
    labels: raw.labels as Record<string, string> | undefined,
    all: raw.all === true,
    select: raw.select as Selection | undefined,
  };
  const kinds = [target.name, target.id, target.labels].filter((k) => k !== undefined);
  if (kinds.length !== 1) {
    throw new ChaosError("invalid", "a docker target needs exactly one of name, id, labels");
  }
  if (target.name !== undefined && !EXACT_NAME.test(target.name)) nameRegex(target.name);
  return target;
}

/** "name payments", "name /^pay/", "id 3f2a…", "labels a=b, c=d" — for messages. */
export function describeTarget(t: ContainerTarget): string {
  if (t.id !== undefined) return `id ${t.id}`;
  if (t.name !== undefined) return EXACT_NAME.test(t.name) ? `name ${t.name}` : `name /${t.name}/`;
  return `labels ${Object.entries(t.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}`;
}

function toContainer(info: ContainerInfo): Container {
  return { id: info.Id, name: (info.Names[0] ?? info.Id).replace(/^\//, ""), state: info.State };
}

/**
 * Every container the target names, in any state, sorted by name (a stable order for seeded selection).
 * @throws ChaosError("agent") when the engine fails or does not answer in time.
 */
export async function findContainers(
  engine: Engine,
  target: ContainerTarget,
  signal: AbortSignal,
): Promise<Container[]> {
  const filters: Record<string, string[]> = {};
  if (target.id !== undefined) filters.id = [target.id];
  if (target.labels) filters.label = Object.entries(target.labels).map(([k, v]) => `${k}=${v}`);
  let listed: ContainerInfo[];
  try {
    listed = await engine.call("list containers", signal, (abortSignal) =>
      engine.docker.listContainers({ all: true, filters, abortSignal }),
    );
  } catch (err) {
    if (err instanceof ChaosError) throw err;
    throw new ChaosError("agent", `cannot list containers: ${reasonOf(err)}`, { cause: err });
  }
  let found = listed.map(toContainer);
  if (target.name !== undefined) {
    const name = target.name;
    if (EXACT_NAME.test(name)) found = found.filter((c) => c.name === name);
    else {
      const pattern = nameRegex(name);
      found = found.filter((c) => pattern.test(c.name));
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

function list(containers: Container[]): string {
  const shown = containers.slice(0, 10).map((c) => `${c.name} (${c.state})`);
  const more = containers.length - shown.length;
  return shown.join(", ") + (more > 0 ? `, … ${more} more` : "");
}

/**
 * The containers an action will touch, among those in a state it can act on: at least one; several only
 * with `all: true` or a `select`, whose `max` caps the blast radius. Matches in other states are returned
 * as `skipped`, for the journal.
 * @throws ChaosError("agent") when nothing matches, nothing matching is in a state the action acts on,
 * several match without all/select, or the selection exceeds `max` — always before anything is touched.
 */
export async function resolveTargets(
  engine: Engine,
  target: ContainerTarget,
  action: { verb: string; acts: (state: string) => boolean },
  signal: AbortSignal,
  log?: Logger,
): Promise<{ chosen: Container[]; skipped: Container[] }> {
  const what = describeTarget(target);
  const found = await findContainers(engine, target, signal);
  if (found.length === 0) {
    throw new ChaosError("agent", `no container matches ${what}`, {
      hint: "check the target with `docker ps -a` (the docker.running probe counts the matches)",
    });
  }
  const eligible = found.filter((c) => action.acts(c.state));
  const skipped = found.filter((c) => !action.acts(c.state));
  if (eligible.length === 0) {
    throw new ChaosError("agent", `no container matching ${what} can be ${action.verb}: ${list(found)}`, {
      hint: "the target is not in a state this action acts on; nothing was touched",
    });
  }
  if (eligible.length > 1 && !target.all && !target.select) {
    throw new ChaosError("agent", `${eligible.length} containers match ${what}: ${list(eligible)}`, {
      hint: "narrow the target, set all: true to act on every match, or select: { mode: one | count | percent }",
    });
  }
  let chosen = eligible;
  if (target.select) {
    const picked = selectTargets(eligible, target.select);
    chosen = picked.chosen;
    log?.info(
      { target: what, matched: eligible.length, chosen: chosen.map((c) => c.name), seed: picked.seed },
      "containers selected",
    );
  }
  if (skipped.length > 0)
    log?.info({ target: what, skipped: list(skipped) }, `left alone: cannot be ${action.verb}`);
  return { chosen, skipped };
}

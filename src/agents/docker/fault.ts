import { ChaosError } from "../../experiments/errors.js";
import type { ActivityInput, AgentContext, PreparedFault, RevertDescription } from "../agent.js";
import { type Engine, reasonOf, statusOf } from "./engine.js";
import { engineFor, holdsFor, lockKey } from "./session.js";
import { type Container, describeTarget, readTarget, resolveTargets } from "./target.js";

/** A container as the ledger records it. */
export interface RecordedContainer {
  id: string;
  name: string;
}

/** One action applied to one container, as `prepareContainerFault` runs it. */
export interface ContainerAction {
  /** `docker.<name>`, for messages and holds. */
  name: string;
  /** Past participle for messages: "paused", "stopped". */
  verb: string;
  /** Whether a container in this state can take the action; the others are left alone and reported. */
  acts(state: string): boolean;
  /** The revert of the fault, when it leaves one. Written to the ledger before `apply` runs. */
  revert?(containers: RecordedContainer[]): {
    kind: string;
    description: string;
    data: Record<string, unknown>;
  };
  /**
   * Applies the action to one container; may return details for the journal.
   * @throws the engine's error (404 = the container is gone, 304 = it already was so).
   */
  apply(
    engine: Engine,
    container: Container,
    signal: AbortSignal,
  ): Promise<Record<string, unknown> | undefined>;
}

const short = (id: string) => id.slice(0, 12);

/**
 * The shared shape of every docker action: resolve the target (touching nothing), hold the containers for
 * this run, describe the revert with the engine's address (so `chaos rollback` reaches it from a fresh
 * process), then apply container by container. A container removed meanwhile is reported as `gone`, one
 * already in the wanted state as `unchanged`; neither is an error.
 * @throws ChaosError("agent") when the engine is unreachable or the target resolves to nothing;
 * ChaosError("invalid") when a container is already held by another fault of this run.
 */
export async function prepareContainerFault(
  action: ContainerAction,
  input: ActivityInput,
  ctx: AgentContext,
): Promise<PreparedFault> {
  const engine = await engineFor(ctx);
  const target = readTarget(input.target);
  const { chosen, skipped } = await resolveTargets(engine, target, action, ctx.signal, ctx.log);
  const holds = await holdsFor(ctx);
  holds.claim(chosen, `${action.name} on ${describeTarget(target)}`);
  const recorded = chosen.map(({ id, name }) => ({ id, name }));
  const spec = action.revert?.(recorded);
  const revert: RevertDescription | undefined = spec && {
    agent: "docker",
    kind: spec.kind,
    description: spec.description,
    data: { engine: engine.spec, containers: recorded, ...spec.data },
  };
  return {
    revert,
    locks: chosen.map((c) => lockKey(engine, c.id)),
    async apply() {
      try {
        return await applyAll(action, engine, chosen, skipped, ctx);
      } finally {
        if (!revert) holds.release(chosen.map((c) => c.id));
      }
    },
  };
}

async function applyAll(
  action: ContainerAction,
  engine: Engine,
  chosen: Container[],
  skipped: Container[],
  ctx: AgentContext,
): Promise<Record<string, unknown>> {
  const done: Record<string, unknown>[] = [];
  const gone: string[] = [];
  const unchanged: string[] = [];
  const failed: string[] = [];
  for (const container of chosen) {
    try {
      const details = await action.apply(engine, container, ctx.signal);
      done.push({ name: container.name, id: short(container.id), ...details });
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) gone.push(container.name);
      else if (status === 304) unchanged.push(container.name);
      else failed.push(`${container.name}: ${reasonOf(err)}`);
    }
  }
  if (gone.length > 0) ctx.log.warn({ containers: gone }, `removed before they could be ${action.verb}`);
  if (failed.length > 0) {
    throw new ChaosError("agent", `${action.name} failed on ${failed.join("; ")}`, {
      hint:
        done.length > 0
          ? `${done.length} other container(s) were ${action.verb} and will be reverted`
          : undefined,
    });
  }
  return {
    [action.verb]: done,
    ...(gone.length ? { gone } : {}),
    ...(unchanged.length ? { unchanged } : {}),
    ...(skipped.length ? { skipped: skipped.map((c) => `${c.name} (${c.state})`) } : {}),
  };
}

/** "payments" or "3 containers (a, b, c)" — for revert descriptions. */
export function nameList(containers: RecordedContainer[]): string {
  if (containers.length === 1) return `container ${containers[0]!.name}`;
  return `${containers.length} containers (${containers.map((c) => c.name).join(", ")})`;
}

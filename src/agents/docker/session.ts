import { ChaosError } from "../../experiments/errors.js";
import type { AgentContext } from "../agent.js";
import { type EngineSpec, readEngineSpec } from "./config.js";
import { connect, type Engine } from "./engine.js";

/**
 * The run's engine: reached once per run (and per address) and shared by its actions and probes.
 * @throws ChaosError("invalid") for a bad address; ChaosError("agent") when the engine is unreachable.
 */
export function engineFor(ctx: AgentContext, spec: EngineSpec = readEngineSpec(ctx.configuration)) {
  return ctx.resources.use(
    `docker:${spec.host}`,
    () => connect(spec, ctx.signal),
    async (engine) => void engine,
  );
}

/**
 * The containers a fault of this run holds, by id, with the step holding each. A container takes one fault
 * at a time: a second fault on it (a kill while a pause is live, say) would make the first one's revert
 * wrong, so it is refused. A hold ends when its fault is reverted, or when an action without a revert ends.
 */
export class Holds {
  private readonly held = new Map<string, string>();

  /** @throws ChaosError("invalid") naming the container and the fault holding it. */
  claim(containers: { id: string; name: string }[], by: string): void {
    for (const c of containers) {
      const holder = this.held.get(c.id);
      if (holder !== undefined) {
        throw new ChaosError(
          "invalid",
          `container ${c.name} (${c.id.slice(0, 12)}) is already held by "${holder}" in this run`,
          {
            hint: "a container takes one fault at a time: let the first fault end (its duration) before the next one, or target another container",
          },
        );
      }
    }
    for (const c of containers) this.held.set(c.id, by);
  }

  release(ids: string[]): void {
    for (const id of ids) this.held.delete(id);
  }
}

/** The run's holds (a fresh set in `chaos rollback`, where nothing is held). */
export function holdsFor(ctx: AgentContext): Promise<Holds> {
  return ctx.resources.use(
    "docker:holds",
    async () => new Holds(),
    async () => undefined,
  );
}

/** The lock key of a container, as PreparedFault.locks wants it. */
export function lockKey(engine: Engine, id: string): string {
  return `docker:${engine.id}:${id}`;
}

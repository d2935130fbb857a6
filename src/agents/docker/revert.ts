import { ChaosError } from "../../experiments/errors.js";
import type { RevertContext, RevertDescription, RevertNote } from "../agent.js";
import { readRecordedSpec } from "./config.js";
import { type Engine, reasonOf, statusOf } from "./engine.js";
import { execIn } from "./exec-command.js";
import type { RecordedContainer } from "./fault.js";
import { engineFor, holdsFor } from "./session.js";

/** The revert kinds this agent writes to the ledger. */
export const REVERT_KINDS = ["unpause", "start", "exec"] as const;

/** @throws ChaosError("agent") when the entry is not what this agent writes. */
function readContainers(data: Record<string, unknown>): RecordedContainer[] {
  const containers = data.containers;
  const ok =
    Array.isArray(containers) &&
    containers.every(
      (c: Partial<RecordedContainer> | null) => typeof c?.id === "string" && typeof c.name === "string",
    );
  if (!ok) {
    throw new ChaosError("agent", "malformed docker revert entry: expected containers [{ id, name }]", {
      hint: "the ledger entry was not written by the docker agent",
    });
  }
  return containers as RecordedContainer[];
}

type Undo = (engine: Engine, c: RecordedContainer, signal: AbortSignal) => Promise<unknown>;

function undoFor(kind: string, data: Record<string, unknown>): Undo {
  switch (kind) {
    case "unpause":
      return (engine, c, signal) =>
        engine.call(`unpause ${c.name}`, signal, (abortSignal) =>
          engine.docker.getContainer(c.id).unpause({ abortSignal }),
        );
    case "start":
      return (engine, c, signal) =>
        engine.call(`start ${c.name}`, signal, (abortSignal) =>
          engine.docker.getContainer(c.id).start({ abortSignal }),
        );
    case "exec": {
      const command = data.command;
      if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === "string")) {
        throw new ChaosError("agent", "malformed docker exec revert entry: no command argv");
      }
      const opts = {
        user: typeof data.user === "string" ? data.user : undefined,
        workdir: typeof data.workdir === "string" ? data.workdir : undefined,
        extraMs: typeof data.timeoutMs === "number" ? data.timeoutMs : 30_000,
      };
      return (engine, c, signal) => execIn(engine, c, command as string[], signal, opts);
    }
    default:
      throw new ChaosError("agent", `the docker agent has no revert kind "${kind}"`, {
        hint: `known kinds: ${REVERT_KINDS.join(", ")}`,
      });
  }
}

/** Whether the engine's refusal means the container is already as the revert wants it. */
function alreadyDone(kind: string, err: unknown): boolean {
  const status = statusOf(err);
  if (status === 304) return true; // start: already started
  // unpause of a container that is not paused (someone unpaused it, it was restarted meanwhile, or the run
  // was stopped between recording the pause and the engine acting on it). Engines answer 409 or, in older
  // API versions, 500 with the same reason.
  return kind === "unpause" && (status === 409 || status === 500) && /is not paused/i.test(reasonOf(err));
}

/**
 * Undoes one docker fault on each recorded container: unpause, start, or the exec's revert-command.
 * Idempotent: a container already unpaused or started counts as done. A container someone removed during
 * the run is not an error: it is named in the returned note, which the journal keeps with the rollback.
 * @throws ChaosError("agent") for another agent's entry, malformed data, an unreachable engine, or a
 * container the undo failed on (the others are still undone first).
 */
export async function revertDockerFault(
  revert: RevertDescription,
  ctx: RevertContext,
): Promise<RevertNote | undefined> {
  if (revert.agent !== "docker") {
    throw new ChaosError("agent", `the docker agent cannot revert a fault of agent "${revert.agent}"`);
  }
  const undo = undoFor(revert.kind, revert.data);
  const containers = readContainers(revert.data);
  const engine = await engineFor(ctx, readRecordedSpec(revert.data.engine));
  const gone: string[] = [];
  const failed: string[] = [];
  for (const c of containers) {
    try {
      await undo(engine, c, ctx.signal);
    } catch (err) {
      if (statusOf(err) === 404) gone.push(`${c.name} (${c.id.slice(0, 12)})`);
      else if (!alreadyDone(revert.kind, err)) failed.push(`${c.name}: ${reasonOf(err)}`);
    }
  }
  (await holdsFor(ctx)).release(containers.map((c) => c.id));
  if (failed.length > 0) {
    throw new ChaosError("agent", `${revert.description} failed on ${failed.join("; ")}`);
  }
  if (gone.length === 0) return undefined;
  const undone = { unpause: "unpaused", start: "started", exec: "reverted" }[revert.kind] ?? "reverted";
  const note = `removed by someone else during the run, so not ${undone}: ${gone.join(", ")}`;
  ctx.log.warn({ revert: revert.description, gone }, "containers removed during the run");
  return { note };
}

import { readFile } from "node:fs/promises";
import { ChaosError } from "../../experiments/errors.js";
import type { ActionDefinition } from "../agent.js";
import { SIGNAL_NAMES } from "../process/signal.js";
import type { Engine } from "./engine.js";
import { type ContainerAction, prepareContainerFault } from "./fault.js";
import { type Container, targetSchema } from "./target.js";

type Via = "process" | "engine";

/**
 * Signals the container's main process from this host, as a crash or the kernel's OOM killer would: the
 * engine then applies the container's restart policy. It first checks that the pid belongs to the
 * container (its cgroup names the container id), so an engine in a VM, whose pids mean nothing here, is
 * refused rather than a host process signalled.
 * @throws ChaosError("agent") when the pid is not the container's, or the signal is refused.
 */
async function signalMainProcess(pid: number, c: Container, signal: NodeJS.Signals): Promise<void> {
  const cgroup = await readFile(`/proc/${pid}/cgroup`, "utf8").catch(() => "");
  if (!cgroup.includes(c.id)) {
    throw new ChaosError("agent", `cannot reach the main process of container ${c.name} from this host`, {
      hint: "the engine runs elsewhere (a VM or another machine): use args: { via: engine }",
    });
  }
  try {
    process.kill(pid, signal);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return; // it exited meanwhile: the fault happened anyway
    throw new ChaosError("agent", `cannot signal container ${c.name} (pid ${pid}): ${code}`, {
      cause: err,
      hint: code === "EPERM" ? "run chaos as root, or use args: { via: engine }" : undefined,
    });
  }
}

function kill(signal: NodeJS.Signals, via: Via | undefined): ContainerAction {
  return {
    name: "docker.kill",
    verb: "killed",
    acts: (state) => state === "running",
    async apply(engine: Engine, c, abort) {
      const container = engine.docker.getContainer(c.id);
      // Nothing to revert: the restart policy decides whether it comes back, so the journal says which.
      const info = await engine.call(`inspect ${c.name}`, abort, (abortSignal) =>
        container.inspect({ abortSignal }),
      );
      const how: Via = via ?? (engine.spec.host.startsWith("unix://") ? "process" : "engine");
      if (how === "process") await signalMainProcess(info.State.Pid, c, signal);
      else
        await engine.call(`kill ${c.name}`, abort, (abortSignal) => container.kill({ signal, abortSignal }));
      const restartPolicy = info.HostConfig.RestartPolicy?.Name || "no";
      // The engine treats its own kill as a manual stop: no restart policy brings the container back then.
      return {
        signal,
        via: how,
        restartPolicy,
        restartPolicyApplies: how === "process" && restartPolicy !== "no",
      };
    },
  };
}

/** Sends a signal (SIGKILL by default) to the matching containers' main process. Nothing to revert. */
export const killAction: ActionDefinition = {
  name: "kill",
  description:
    "signal (default SIGKILL) the main process of the matching running containers; the journal records their restart policy",
  target: targetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      signal: { enum: SIGNAL_NAMES, default: "SIGKILL" },
      via: {
        enum: ["process", "engine"],
        description:
          "process: signal the main process from this host, like a crash, so the restart policy applies (default for a unix:// engine); engine: docker kill, which the engine counts as a manual stop (default for tcp://)",
      },
    },
  },
  /**
   * @throws ChaosError("agent") when no running container (or, without all/select, several) match, or the
   * main process cannot be signalled from this host.
   */
  prepare: (input, ctx) =>
    prepareContainerFault(
      kill((input.args.signal as NodeJS.Signals | undefined) ?? "SIGKILL", input.args.via as Via | undefined),
      input,
      ctx,
    ),
};

import type { Agent } from "../agent.js";
import { configurationSchema } from "./config.js";
import { execActionDefinition } from "./exec.js";
import { killAction } from "./kill.js";
import { pauseAction } from "./pause.js";
import { healthyProbe, restartsProbe, runningProbe } from "./probes.js";
import { restartAction } from "./restart.js";
import { revertDockerFault } from "./revert.js";
import { engineFor } from "./session.js";
import { stopAction } from "./stop.js";

/**
 * Containers on a Docker engine (dockerode), found by name, id or labels. Faults: kill, stop (reverted by
 * start), pause (reverted by unpause), restart, exec (with an optional revert-command). Probes: running,
 * healthy, restarts. Every call to the engine has a deadline and observes the run's abort signal.
 */
export const dockerAgent: Agent = {
  name: "docker",
  description: "kill, stop, pause, restart and exec in containers on a Docker engine; probe their state",
  configuration: configurationSchema,
  actions: {
    kill: killAction,
    stop: stopAction,
    pause: pauseAction,
    restart: restartAction,
    exec: execActionDefinition,
  },
  probes: { running: runningProbe, healthy: healthyProbe, restarts: restartsProbe },
  // Reach the engine before the steady state is checked: an unreachable engine is exit 4 with nothing injected.
  prepareRun: async (ctx) => void (await engineFor(ctx)),
  revert: revertDockerFault,
};

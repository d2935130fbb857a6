import type { Agent } from "../agent.js";
import { killAction } from "./kill.js";
import { restartAction } from "./restart.js";
import { resumeAction } from "./resume.js";
import { revertProcessFault } from "./revert.js";
import { runningProbe } from "./running.js";
import { suspendAction } from "./suspend.js";

/**
 * Local processes on Linux, found through /proc by pid, pid-file, command-line regex or listening port.
 * Faults: kill, suspend (reverted by resume), resume, restart. Probe: running (the default, so an
 * experiment may write `process: { port: 8080 }`).
 */
export const processAgent: Agent = {
  name: "process",
  description: "signal, suspend and restart local processes (Linux /proc); probe whether they run",
  defaultProbe: "running",
  actions: {
    kill: killAction,
    suspend: suspendAction,
    resume: resumeAction,
    restart: restartAction,
  },
  probes: { running: runningProbe },
  revert: revertProcessFault,
};

import type { Agent } from "../agent.js";
import { execAction, execProbe } from "./exec.js";
import { killAction } from "./kill.js";
import { restartAction } from "./restart.js";
import { resumeAction } from "./resume.js";
import { revertProcessFault } from "./revert.js";
import { runningProbe } from "./running.js";
import { suspendAction } from "./suspend.js";

/**
 * Local processes on Linux, found through /proc by pid, pid-file, command-line regex or listening port.
 * Faults: kill, suspend (reverted by resume), resume, restart; exec runs a command. Probes: running (the
 * default, so an experiment may write `process: { port: 8080 }`) and exec (a command's exit status and output).
 */
export const processAgent: Agent = {
  name: "process",
  description:
    "signal, suspend and restart local processes (Linux /proc), run commands; probe whether they run",
  defaultProbe: "running",
  actions: {
    kill: killAction,
    suspend: suspendAction,
    resume: resumeAction,
    restart: restartAction,
    exec: execAction,
  },
  probes: { running: runningProbe, exec: execProbe },
  revert: revertProcessFault,
};

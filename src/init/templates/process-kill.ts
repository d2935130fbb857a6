import { PROCESS_QUESTION, processTarget, quote, type Template, URL_QUESTION } from "../template.js";

/** A process is killed outright; its supervisor must bring the service back within the deadline. */
export const processKill: Template = {
  name: "process-kill",
  description: "a process is killed with SIGKILL; the service must answer again within 30 s",
  questions: [URL_QUESTION, PROCESS_QUESTION],
  render: (v) => `version: 1
title: The service comes back after its process is killed
tags: [process, crash, recovery]
configuration:
  url: ${quote(v.url)}
steady-state:
  probes:
    - name: the service answers 200
      http: { url: "\${configuration.url}", timeout: 2s }
      tolerance: { status: 200 }
  # The hypothesis is recovery: a lone process is down until its supervisor restarts it, so it is judged
  # after the kill, not while it is down. Behind several replicas, check it during too: during: { every: 1s }
  during: none
  after: { within: 30s, every: 1s }
method:
  - name: kill the process
    action: process.kill
    target: ${processTarget(v.target)}
    args: { signal: SIGKILL }
  - pause: 5s
`,
};

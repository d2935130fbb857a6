import { PROCESS_QUESTION, processTarget, quote, type Template, URL_QUESTION } from "../template.js";

/** The service keeps answering, fast, while one of its processes is frozen for a while. */
export const httpAvailability: Template = {
  name: "http-availability",
  description: "an HTTP service stays available while one of its processes is frozen for 10 s",
  questions: [URL_QUESTION, PROCESS_QUESTION],
  render: (v) => `version: 1
title: ${quote(`The service at ${v.url} stays available while a process is frozen`)}
tags: [availability, http, process]
configuration:
  url: ${quote(v.url)}
steady-state:
  probes:
    - name: the service answers 200 within 500 ms
      http: { url: "\${configuration.url}", timeout: 2s }
      tolerance: { status: 200, latency: "< 500ms" }
  during: { every: 1s }
  after: { within: 15s, every: 1s }
method:
  - name: freeze the process for 10 s
    action: process.suspend
    target: ${processTarget(v.target)}
    duration: 10s
`,
};

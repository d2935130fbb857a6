import { PROCESS_QUESTION, processTarget, quote, type Template } from "../template.js";

/** An SLI from Prometheus stays within its objective while a process is frozen. */
export const prometheusSlo: Template = {
  name: "prometheus-slo",
  description:
    "a Prometheus SLI (error ratio by default) stays under its objective while a process is frozen",
  questions: [
    {
      name: "query",
      prompt: "PromQL for the SLI (a single value; the objective is < 0.01)",
      default: 'sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))',
    },
    PROCESS_QUESTION,
  ],
  render: (v) => `version: 1
title: The SLO holds while a process is frozen
tags: [slo, prometheus, process]
configuration:
  prometheus:
    url: "\${env:PROMETHEUS_URL:-http://127.0.0.1:9090}"
steady-state:
  probes:
    - name: SLI within the objective
      prometheus:
        query: ${quote(v.query)}
      tolerance: "< 0.01"
  during: { every: 5s }
  after: { within: 2m, every: 5s }
stop-when:
  - name: SLI ten times over the objective
    probe:
      prometheus:
        query: ${quote(v.query)}
    when: "> 0.1"
    every: 5s
method:
  - name: freeze the process for 30 s
    action: process.suspend
    target: ${processTarget(v.target)}
    duration: 30s
`,
};

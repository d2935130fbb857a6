import { quote, type Template, URL_QUESTION } from "../template.js";

/** Latency added by Toxiproxy in front of a service; its callers must stay fast (timeouts, fallbacks). */
export const toxiproxyLatency: Template = {
  name: "toxiproxy-latency",
  description: "500 ms of latency through a Toxiproxy proxy in front of a service; callers stay under 1 s",
  questions: [
    { ...URL_QUESTION, prompt: "URL of the caller's health endpoint (it calls through the proxy)" },
    { name: "target", prompt: "name of the Toxiproxy proxy in front of the service", default: "my-service" },
  ],
  render: (v) => `version: 1
title: ${quote(`Callers stay fast with 500 ms of latency in front of ${v.target}`)}
tags: [latency, toxiproxy, timeouts]
configuration:
  url: ${quote(v.url)}
  toxiproxy:
    url: "\${env:TOXIPROXY_URL:-http://127.0.0.1:8474}"
    # Declare the proxy to have it created for the run (and removed afterwards):
    # proxies: [{ name: ${quote(v.target)}, listen: "127.0.0.1:21000", upstream: "127.0.0.1:8081" }]
steady-state:
  probes:
    - name: the caller answers 200 within 1 s
      http: { url: "\${configuration.url}", timeout: 3s }
      tolerance: { status: 200, latency: "< 1s" }
  during: { every: 1s }
  after: { within: 15s, every: 1s }
method:
  - name: 500 ms latency on the service's answers
    action: toxiproxy.latency
    target: { proxy: ${quote(v.target)} }
    args: { latency: 500ms, jitter: 50ms, stream: downstream }
    duration: 15s
`,
};

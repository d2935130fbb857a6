import { quote, type Template, URL_QUESTION, urlAnswersSteadyState } from "../template.js";

/** A container is frozen for a while; the service in front of it must keep answering (timeouts, fallbacks). */
export const dockerPause: Template = {
  name: "docker-pause",
  description: "a container is paused for 10 s; the service must keep answering",
  questions: [
    URL_QUESTION,
    { name: "target", prompt: "container to pause (its name)", default: "my-service" },
  ],
  render: (v) => `version: 1
title: The service keeps answering while a container is paused
tags: [docker, pause]
configuration:
  url: ${quote(v.url)}
  # docker: { host: "unix:///var/run/docker.sock" }   # else $DOCKER_HOST, else the default socket
${urlAnswersSteadyState("20s")}
method:
  - name: pause the container
    action: docker.pause
    target: { name: ${quote(v.target)} }
    duration: 10s
`,
};

import { quote, type Template, URL_QUESTION, urlAnswersSteadyState } from "../template.js";

/**
 * `namespace/label=value` (as a person types it) as a pod target; no namespace means `default`.
 * One pod at random, never more.
 */
function podTarget(target: string): string {
  const [namespace, selector] = target.includes("/") ? target.split("/", 2) : ["default", target];
  const [key, value] = (selector ?? "").split("=", 2);
  return `{ namespace: ${quote(namespace ?? "default")}, labels: { ${quote(key ?? "app")}: ${quote(value ?? "")} }, select: { mode: one, max: 1 } }`;
}

/** One pod of a workload is killed; its controller replaces it while the service keeps answering. */
export const kubernetesPodKill: Template = {
  name: "kubernetes-pod-kill",
  description: "one pod is killed; the service keeps answering and the pod is replaced within 60 s",
  questions: [
    URL_QUESTION,
    {
      name: "target",
      prompt: "pods to pick from, as namespace/label=value",
      default: "default/app=my-service",
    },
  ],
  render: (v) => `version: 1
title: The service survives the loss of one pod
tags: [kubernetes, pod-kill]
configuration:
  url: ${quote(v.url)}
  # kubernetes: { kubeconfig: ~/.kube/config, context: my-cluster }   # else $KUBECONFIG, or in-cluster
${urlAnswersSteadyState("60s")}
method:
  - name: kill one pod
    action: kubernetes.pod-kill
    target: ${podTarget(v.target)}
    args: { grace-period: 0s }
  - pause: 10s
`,
};

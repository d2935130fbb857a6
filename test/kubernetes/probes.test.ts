import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentContext } from "../../src/agents/agent.js";
import { kubernetesAgent } from "../../src/agents/kubernetes/index.js";
import type { ChaosError } from "../../src/experiments/errors.js";
import type { KubeObject } from "../support/kube-api/store.js";
import { startTestCluster, type TestCluster } from "./cluster.js";

/**
 * The kubernetes agent's read-only probes over every pod of a namespace (`all: true`), by status.conditions,
 * and of pod logs, against the test API server's pods/log subresource (text/plain, container, previous,
 * sinceSeconds, tailLines, timestamps, limitBytes, with the API's errors).
 */
describe("kubernetes probes: all pods, conditions, logs", () => {
  let cluster: TestCluster;
  let ctx: AgentContext;
  const probe = (name: string, args: Record<string, unknown>) => kubernetesAgent.probes[name]!.run(args, ctx);
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err as ChaosError;
    }
    throw new Error("expected the probe to fail");
  };
  const pod = (name: string) => cluster.api.object("pods", "logs", name)!;
  const put = (p: KubeObject) => cluster.api.addObject("pods", p);

  beforeAll(async () => {
    cluster = await startTestCluster({ recreateMs: 50, readyMs: 50 });
    ctx = cluster.context();
    const { api } = cluster;
    api.addPods("logs", "web", 2, { app: "web" });
    api.addPods("logs", "job", 1, { app: "job" }, { phase: "Succeeded" });
    api.addPods("logs", "new", 1, { app: "new" }, { phase: "Pending" });
    // A pod with two containers.
    api.addPods("logs", "duo", 1, { app: "duo" });
    const duo = pod("duo-0");
    duo.spec.containers.push({ name: "sidecar", image: "registry.example/sidecar:1.0" });
    duo.status.containerStatuses.push({ ...duo.status.containerStatuses[0], name: "sidecar" });
    put(duo);
    // web-1 is Running but not Ready, and says so in a condition of its own.
    const w1 = pod("web-1");
    w1.status.conditions = [
      { type: "Ready", status: "False" },
      { type: "example.com/Drained", status: "True" },
    ];
    put(w1);
    const old = new Date(Date.now() - 3_600_000);
    api.logs.write("logs", "web-0", "app", "booting\nlistening on :8080", old);
    api.logs.write("logs", "web-0", "app", "GET /health 200\nGET /pay 500 error: upstream");
    api.logs.write("logs", "web-1", "app", "listening on :8080");
    api.logs.write("logs", "duo-0", "app", "app line");
    api.logs.write("logs", "duo-0", "sidecar", "sidecar line");
    api.logs.write("logs", "job-0", "app", "first run crashed");
    api.logs.restart("logs", "job-0", "app");
    api.logs.write("logs", "job-0", "app", "done");
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("counts every pod of a namespace with all: true, and refuses all beside a selector", async () => {
    const every = await probe("pods", { namespace: "logs", all: true });
    expect(every.value).toBe(5);
    expect(every.fields).toMatchObject({ total: 5, running: 3, succeeded: 1, pending: 1 });
    expect((await probe("pods", { namespace: "logs", all: true, phase: "Running" })).value).toBe(3);
    expect((await probe("pods-ready", { namespace: "logs", all: true })).fields).toMatchObject({ total: 4 });
    // The list asked for no selector at all.
    const list = cluster.api.calls.filter((c) => c.verb === "list" && c.namespace === "logs").at(-1)!;
    expect(list.path).toBe("/api/v1/namespaces/logs/pods");
    expect(
      kubernetesAgent.probes.pods!.check!({ namespace: "logs", all: true, selector: "app=web" }),
    ).toEqual([
      { path: ["all"], message: expect.stringMatching(/every pod of the namespace, but selector narrow/) },
    ]);
  });

  it("counts the pods carrying every given condition, type and status alike", async () => {
    const ready = await probe("pods", {
      namespace: "logs",
      labels: { app: "web" },
      conditions: [{ type: "Ready", status: "True" }],
    });
    expect(ready.value).toBe(1);
    expect(ready.summary).toBe("1/2 Ready=True");
    const drained = await probe("pods", {
      namespace: "logs",
      all: true,
      phase: "Running",
      conditions: [
        { type: "Ready", status: "False" },
        { type: "example.com/Drained", status: "True" },
      ],
    });
    expect(drained.value).toBe(1);
    // Statuses are compared as the API writes them: "true" is not "True".
    expect(
      (
        await probe("pods", {
          namespace: "logs",
          labels: { app: "web" },
          conditions: [{ type: "Ready", status: "true" }],
        })
      ).value,
    ).toBe(0);
  });

  it("reads pod logs as text/plain, counting lines and lines matching a pattern", async () => {
    const web = await probe("pod-logs", {
      namespace: "logs",
      labels: { app: "web" },
      match: "\\s5\\d\\d\\s",
    });
    expect(web.value).toBe(1);
    expect(web.fields).toMatchObject({
      lines: 5,
      matching: 1,
      pods: 2,
      logs: {
        "web-0": "booting\nlistening on :8080\nGET /health 200\nGET /pay 500 error: upstream\n",
        "web-1": "listening on :8080\n",
      },
    });
    expect(web.summary).toBe("1 of 5 lines match /\\s5\\d\\d\\s/ in 2 pods");
    const res = await fetch(`${cluster.api.url}/api/v1/namespaces/logs/pods/web-1/log`, {
      headers: { authorization: `Bearer ${cluster.api.token}` },
    });
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(await res.text()).toBe("listening on :8080\n");
  });

  it("honours since, tail-lines, timestamps, limit-bytes, container and previous", async () => {
    const logsOf = async (args: Record<string, unknown>) =>
      (await probe("pod-logs", { namespace: "logs", ...args })).fields!.logs as Record<string, string>;
    expect((await logsOf({ names: ["web-0"], since: "5m" }))["web-0"]).toBe(
      "GET /health 200\nGET /pay 500 error: upstream\n",
    );
    expect((await logsOf({ names: ["web-0"], "tail-lines": 1 }))["web-0"]).toBe(
      "GET /pay 500 error: upstream\n",
    );
    expect((await logsOf({ names: ["web-0"], "limit-bytes": 7 }))["web-0"]).toBe("booting");
    const stamped = (await logsOf({ names: ["web-1"], timestamps: true }))["web-1"]!;
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z listening on :8080\n$/);
    expect((await logsOf({ names: ["duo-0"], container: "sidecar" }))["duo-0"]).toBe("sidecar line\n");
    expect((await logsOf({ names: ["job-0"], previous: true }))["job-0"]).toBe("first run crashed\n");
    const calls = cluster.api.calls.filter((c) => c.resource === "pods/log");
    expect(calls.every((c) => c.verb === "get" && c.namespace === "logs")).toBe(true);
  });

  it("fails with the API's message where a log cannot be read", async () => {
    const both = await failure(probe("pod-logs", { namespace: "logs", names: ["duo-0"] }));
    expect(both.code).toBe("agent");
    expect(both.message).toMatch(
      /get pods\/log duo-0 in namespace logs failed with 400.*choose one of: \[app sidecar\]/,
    );
    expect(
      (await failure(probe("pod-logs", { namespace: "logs", names: ["web-0"], previous: true }))).message,
    ).toMatch(/previous terminated container "app" in pod "web-0" not found/);
    expect((await failure(probe("pod-logs", { namespace: "logs", names: ["new-0"] }))).message).toMatch(
      /container "app" in pod "new-0" is waiting to start: ContainerCreating/,
    );
    expect(
      (await failure(probe("pod-logs", { namespace: "logs", names: ["web-0"], container: "nope" }))).message,
    ).toMatch(/container nope is not valid for pod web-0/);
    expect(kubernetesAgent.probes["pod-logs"]!.check!({ namespace: "logs", all: true, match: "(" })).toEqual([
      { path: ["match"], message: expect.stringMatching(/not a regular expression/) },
    ]);
  });
});

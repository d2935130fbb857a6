import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { kubernetesAgent } from "../../src/agents/kubernetes/index.js";
import type { ChaosError } from "../../src/experiments/errors.js";
import { startTestCluster, type TestCluster } from "./cluster.js";

let cluster: TestCluster;

beforeEach(async () => {
  cluster = await startTestCluster({ recreateMs: 200, readyMs: 200 });
  cluster.api.addPods("shop", "web", 3, { app: "web" });
});

afterEach(async () => {
  await cluster.stop();
});

const killAll = { namespace: "shop", labels: { app: "web" }, select: { mode: "all" } };
const podKill = (kubernetes: Record<string, unknown> = {}, signal?: AbortSignal) =>
  kubernetesAgent.actions["pod-kill"]!.prepare(
    { target: killAll, args: { "grace-period": "0s" } },
    cluster.context({ kubernetes, ...(signal ? { signal } : {}) }),
  );
const deletes = () => cluster.api.calls.filter((c) => c.method === "DELETE");

describe("API errors at the agent's boundary", () => {
  it("turn a 403 into an RBAC message naming the verb, resource and namespace", async () => {
    cluster.api.inject({ method: "DELETE", status: 403 });
    const fault = await podKill();
    const err = (await fault.apply().catch((e: unknown) => e)) as ChaosError;
    expect(err).toMatchObject({ code: "agent", status: 403 });
    expect(err.message).toMatch(
      /^kubernetes: forbidden to delete pods in namespace shop: pods "web-\d" is forbidden/,
    );
    expect(err.hint).toContain('grant the verb "delete" on "pods"');
    expect(cluster.api.pods("shop")).toHaveLength(3);
  });

  it("say which pods were deleted before a delete failed", async () => {
    cluster.api.inject({ method: "DELETE", path: /\/web-2$/, status: 403 });
    const fault = await podKill();
    const err = (await fault.apply().catch((e: unknown) => e)) as ChaosError;
    expect(err.message).toMatch(
      /forbidden to delete pods in namespace shop: .*; 2 of 3 pods were deleted: web-0, web-1$/,
    );
    expect(cluster.api.pods("shop").map((p) => p.metadata.name)).toEqual(["web-2"]);
  });

  it("retry a 429 after the server's Retry-After", async () => {
    cluster.api.inject({ method: "DELETE", status: 429, retryAfter: 1, times: 1 });
    const fault = await podKill();
    const start = Date.now();
    const out = (await fault.apply()) as { killed: string[] };
    expect(Date.now() - start).toBeGreaterThanOrEqual(1000);
    expect(out.killed).toHaveLength(3);
    expect(deletes()).toHaveLength(4);
    expect(cluster.api.pods("shop")).toEqual([]);
  });

  it("retry 5xx answers with backoff, then give up with the last answer", async () => {
    cluster.api.inject({ method: "GET", status: 503, times: 2 });
    await expect(podKill()).resolves.toBeDefined();
    cluster.api.inject({ method: "GET", status: 500 });
    const err = await podKill().catch((e) => e);
    expect(err.message).toContain("list pods in namespace shop failed with 500 InternalError");
    expect(cluster.api.calls.filter((c) => c.verb === "list").length).toBe(3 + 5);
  });

  it("give up on a server that accepts and never answers, within the call timeout", async () => {
    cluster.api.inject({ hang: true });
    const start = Date.now();
    const err = await podKill({ "call-timeout": "300ms" }).catch((e) => e);
    expect(Date.now() - start).toBeLessThan(3000);
    expect(err).toMatchObject({ code: "agent" });
    expect(err.message).toBe("kubernetes: list pods in namespace shop: no answer within 300 ms");
  });

  it("stop waiting as soon as the run is aborted", async () => {
    cluster.api.inject({ hang: true });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error("SIGINT")), 200);
    const start = Date.now();
    const err = await podKill({ "call-timeout": "60s" }, abort.signal).catch((e) => e);
    expect(Date.now() - start).toBeLessThan(3000);
    expect(err.message).toBe("kubernetes: list pods in namespace shop was cancelled");
  });

  it("report refused credentials and an unreachable server as agent errors", async () => {
    const { writeKubeconfig } = await import("../support/kube-api/kubeconfig.js");
    const wrong = await writeKubeconfig(cluster.dir, cluster.api.url, "not-the-token", "wrong");
    const err = await podKill({ kubeconfig: wrong }).catch((e) => e);
    expect(err.message).toContain("unauthorized");
    await cluster.api.close();
    const down = await podKill().catch((e) => e);
    expect(down).toMatchObject({
      code: "agent",
      message: expect.stringContaining("the API server is unreachable"),
    });
  });

  it("name a kubeconfig that does not exist, and an unknown context", async () => {
    await expect(podKill({ kubeconfig: `${cluster.dir}/missing.yaml` })).rejects.toMatchObject({
      code: "agent",
      message: expect.stringContaining("cannot load the Kubernetes configuration"),
    });
    await expect(podKill({ context: "prod" })).rejects.toMatchObject({
      message: 'the kubeconfig has no context "prod"',
      hint: "known contexts: test",
    });
  });
});

describe("probes", () => {
  const probe = (name: string, args: Record<string, unknown>) =>
    kubernetesAgent.probes[name]!.run(args, cluster.context());

  it("pods-ready counts Ready pods and watches a Deployment recover from a kill", async () => {
    cluster.api.addDeployment("shop", "orders", 3);
    const target = { namespace: "shop", labels: { app: "orders" } };
    expect(await probe("pods-ready", target)).toMatchObject({
      value: 3,
      fields: { ready: 3, total: 3, ratio: 1 },
    });
    const fault = await kubernetesAgent.actions["pod-kill"]!.prepare(
      { target: { ...target, select: { mode: "one", seed: 3 } }, args: { "grace-period": "0s" } },
      cluster.context(),
    );
    await fault.apply();
    expect(await probe("pods-ready", target)).toMatchObject({ value: 2, fields: { total: 2 } });
    // The reconciler replaces the pod (not Ready at first), then it turns Ready: the probe sees both.
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const r = await probe("pods-ready", target);
      seen.add(`${r.value}/${r.fields?.total}`);
      if (r.value === 3) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect([...seen]).toEqual(expect.arrayContaining(["2/3", "3/3"]));
    expect(await probe("pods-ready", target)).toMatchObject({ value: 3, fields: { total: 3, ratio: 1 } });
  });

  it("pods-ready on nothing is NaN, so no ratio tolerance can pass by accident", async () => {
    const r = await probe("pods-ready", { namespace: "empty", labels: { app: "x" } });
    expect(r.value).toBe(0);
    expect(r.fields?.ratio).toBeNaN();
  });

  it("deployment reports available, ready and updated replicas", async () => {
    cluster.api.addDeployment("shop", "orders", 2);
    const r = await probe("deployment", { namespace: "shop", name: "orders" });
    expect(r).toMatchObject({ value: 2, fields: { replicas: 2, available: 2, ready: 2, updated: 2 } });
  });

  it("restarts sums container restarts", async () => {
    const pod = cluster.api.object("pods", "shop", "web-1")!;
    pod.status.containerStatuses[0].restartCount = 4;
    cluster.api.store.put("pods", pod);
    const r = await probe("restarts", { namespace: "shop", labels: { app: "web" } });
    expect(r).toMatchObject({ value: 4, fields: { total: 4, max: 4, pods: 3 } });
  });
});

describe("a server that is not a Kubernetes API server", () => {
  it("is reported as an unexpected answer, not retried", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>login</html>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { writeKubeconfig } = await import("../support/kube-api/kubeconfig.js");
    const address = server.address() as { port: number };
    const file = await writeKubeconfig(cluster.dir, `http://127.0.0.1:${address.port}`, "x", "html");
    let requests = 0;
    server.on("request", () => requests++);
    const err = await podKill({ kubeconfig: file }).catch((e: unknown) => e as ChaosError);
    server.close();
    expect(err).toMatchObject({ code: "agent", message: expect.stringContaining("unexpected answer") });
    expect(requests).toBe(1);
  });
});

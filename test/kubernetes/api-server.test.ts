import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually, startTestCluster, type TestCluster } from "./cluster.js";

/** The test API server itself, read through @kubernetes/client-node: it must behave as a cluster does. */

let cluster: TestCluster;

beforeEach(async () => {
  cluster = await startTestCluster({ recreateMs: 100, readyMs: 100 });
});

afterEach(async () => {
  await cluster.stop();
});

async function client() {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  return { k8s, kc, core: kc.makeApiClient(k8s.CoreV1Api) };
}

describe("the API test server", () => {
  it("streams pod events from a resourceVersion on, as a watch does", async () => {
    cluster.api.addPods("shop", "web", 2, { app: "web" });
    const { k8s, kc, core } = await client();
    const list = await core.listNamespacedPod({ namespace: "shop" });
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(
      "/api/v1/namespaces/shop/pods",
      { resourceVersion: list.metadata?.resourceVersion, labelSelector: "app=web" },
      (type: string, obj: { metadata: { name: string } }) => events.push(`${type} ${obj.metadata.name}`),
      () => undefined,
    );
    await core.deleteNamespacedPod({ name: "web-0", namespace: "shop", gracePeriodSeconds: 0 });
    cluster.api.addPods("shop", "other", 1, { app: "other" });
    expect(await eventually(() => events.length >= 1)).toBe(true);
    req.abort();
    expect(events).toEqual(["DELETED web-0"]);
  });

  it("answers a resourceVersion older than its history with 410 Expired", async () => {
    const { k8s, kc } = await client();
    for (let i = 0; i < 5100; i++)
      cluster.api.store.put("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: `n${i % 3}` } });
    let error: { code?: number; reason?: string } | undefined;
    const done = new Promise<void>((resolve) => {
      void new k8s.Watch(kc).watch(
        "/api/v1/namespaces/shop/pods",
        { resourceVersion: "1001" },
        (type: string, obj: { code?: number; reason?: string }) => {
          if (type === "ERROR") error = obj;
        },
        () => resolve(),
      );
    });
    await done;
    expect(error).toMatchObject({ code: 410, reason: "Expired" });
  });

  it("answers errors with Status objects, and rejects a wrong token", async () => {
    const { core } = await client();
    const err = await core.readNamespacedPod({ name: "nope", namespace: "shop" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 404 });
    expect(JSON.parse((err as { body: string }).body)).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "nope" not found',
      reason: "NotFound",
      details: { name: "nope", group: "", kind: "pods" },
      code: 404,
    });
    const res = await fetch(`${cluster.api.url}/api/v1/namespaces/shop/pods`);
    expect(res.status).toBe(401);
  });

  it("replaces a scale with PUT only at the resourceVersion it was read at (409 Conflict otherwise)", async () => {
    cluster.api.addDeployment("shop", "orders", 2);
    const { core: _core, k8s, kc } = await client();
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const scale = await apps.readNamespacedDeploymentScale({ name: "orders", namespace: "shop" });
    await apps.replaceNamespacedDeploymentScale({
      name: "orders",
      namespace: "shop",
      body: { ...scale, spec: { replicas: 3 } },
    });
    expect(cluster.api.object("deployments", "shop", "orders")?.spec.replicas).toBe(3);
    const stale = await apps
      .replaceNamespacedDeploymentScale({
        name: "orders",
        namespace: "shop",
        body: { ...scale, spec: { replicas: 5 } },
      })
      .catch((e: unknown) => e);
    expect(stale).toMatchObject({ code: 409 });
    expect(cluster.api.object("deployments", "shop", "orders")?.spec.replicas).toBe(3);
  });

  it("refuses a patch in a content type it does not know with 415", async () => {
    cluster.api.addNode("node-1");
    const res = await fetch(`${cluster.api.url}/api/v1/nodes/node-1`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${cluster.api.token}`, "content-type": "text/plain" },
      body: "unschedulable",
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ kind: "Status", reason: "UnsupportedMediaType", code: 415 });
  });

  it("replaces a Deployment's deleted pod after a delay, Ready a little later", async () => {
    cluster.api.addDeployment("shop", "orders", 2);
    const { core } = await client();
    const [victim] = cluster.api.pods("shop");
    await core.deleteNamespacedPod({ name: victim!.metadata.name, namespace: "shop", gracePeriodSeconds: 0 });
    expect(cluster.api.pods("shop")).toHaveLength(1);
    expect(await eventually(() => cluster.api.pods("shop").length === 2)).toBe(true);
    const fresh = cluster.api
      .pods("shop")
      .find((p) => p.metadata.name !== victim!.metadata.name && p.status.conditions[0].status === "False");
    expect(fresh).toBeDefined();
    expect(
      await eventually(() => cluster.api.object("deployments", "shop", "orders")?.status.readyReplicas === 2),
    ).toBe(true);
  });
});

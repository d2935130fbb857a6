import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { PreparedFault, RevertDescription } from "../../src/agents/agent.js";
import { kubernetesAgent } from "../../src/agents/kubernetes/index.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { eventually, startTestCluster, type TestCluster } from "./cluster.js";

let cluster: TestCluster;

beforeEach(async () => {
  cluster = await startTestCluster({ recreateMs: 200, readyMs: 200 });
});

afterEach(async () => {
  await cluster.stop();
});

const prepare = (action: string, target: Record<string, unknown>, args: Record<string, unknown> = {}) =>
  kubernetesAgent.actions[action]!.prepare({ target, args }, cluster.context());

/** The ChaosError a prepare rejects with (the test fails when it resolves or throws anything else). */
const prepareError = (action: string, target: Record<string, unknown>, args: Record<string, unknown> = {}) =>
  prepare(action, target, args).then(
    () => expect.fail("prepare did not throw"),
    (err: unknown) => {
      expect(err).toBeInstanceOf(ChaosError);
      return err as ChaosError;
    },
  );

/** The revert as `chaos rollback` reads it back: after a trip through the JSON ledger. */
const fromLedger = (fault: PreparedFault): RevertDescription =>
  JSON.parse(JSON.stringify(fault.revert ?? expect.fail("the fault has no revert")));

/** A revert as a fresh process runs it: no experiment configuration at all. */
const revertFresh = (revert: RevertDescription) =>
  kubernetesAgent.revert(revert, cluster.context({ configuration: {} }));

const names = (ns: string) => cluster.api.pods(ns).map((p) => p.metadata.name);
const writes = () =>
  cluster.api.calls.filter((c) => c.verb !== "get" && c.verb !== "list" && c.verb !== "watch");

describe("pod-kill", () => {
  it("deletes exactly the seeded selection, and the same seed picks the same pods", async () => {
    cluster.api.addPods("shop", "payments", 10, { app: "payments" });
    cluster.api.addPods("shop", "orders", 3, { app: "orders" });
    const target = {
      namespace: "shop",
      labels: { app: "payments" },
      select: { mode: "count", count: 3, seed: 42 },
    };
    const first = await prepare("pod-kill", target, { "grace-period": "0s" });
    const again = await prepare("pod-kill", target, { "grace-period": "0s" });
    expect(first.locks).toEqual(again.locks);
    expect(first.locks).toHaveLength(3);
    expect(first.revert).toBeUndefined();
    expect(names("shop")).toHaveLength(13); // prepare touched nothing
    expect(writes()).toEqual([]);

    const out = (await first.apply()) as { killed: string[]; gone: string[] };
    expect(out.killed).toHaveLength(3);
    const server = cluster.api.url;
    expect([...first.locks!].sort()).toEqual(out.killed.map((n) => `kubernetes:${server}:pod/shop/${n}`));
    expect(names("shop")).toHaveLength(10);
    for (const n of out.killed) expect(names("shop")).not.toContain(n);
    expect(names("shop").filter((n) => n.startsWith("orders"))).toHaveLength(3);
  });

  it("pages through the namespace with limit and continue", async () => {
    cluster.api.addPods("big", "web", 1200, { app: "web" });
    const fault = await prepare("pod-kill", {
      namespace: "big",
      labels: { app: "web" },
      select: { mode: "percent", percent: 1, seed: 1 },
    });
    const lists = cluster.api.calls.filter((c) => c.verb === "list");
    expect(lists.length).toBe(3); // 500 + 500 + 200
    // Metadata is all an action needs: no specs or statuses of 1,200 pods sent, parsed or held.
    for (const c of lists) expect(c.accept).toContain("as=PartialObjectMetadataList");
    expect(fault.locks).toHaveLength(12);
  });

  it("reuses kept-alive connections for its calls instead of one connection per call", async () => {
    cluster.api.addPods(
      "shop",
      "web",
      60,
      { app: "web" },
      { generated: true, owner: { kind: "ReplicaSet", name: "web-7d9c5b" } },
    );
    const fault = await prepare("pod-kill", {
      namespace: "shop",
      labels: { app: "web" },
      select: { mode: "all" },
    });
    await fault.apply();
    // A list, 60 deletes, and an Event on each deleted pod.
    expect(cluster.api.calls.length).toBe(121);
    expect(cluster.api.calls.filter((c) => c.resource === "events")).toHaveLength(60);
    // About one connection per call in flight (16 deletes, then 8 Events, some opened while another was
    // being released), not one per call (121, what the client does on its own).
    expect(cluster.api.connections).toBeLessThan(30);
  });

  it("honours a grace period: the pods are Terminating, then gone", async () => {
    cluster.api.addPods("shop", "slow", 1, { app: "slow" });
    const fault = await prepare(
      "pod-kill",
      { namespace: "shop", names: ["slow-0"] },
      { "grace-period": "1s" },
    );
    await fault.apply();
    expect(cluster.api.object("pods", "shop", "slow-0")?.metadata.deletionTimestamp).toBeDefined();
    expect(await eventually(() => names("shop").length === 0, 3000)).toBe(true);
  });

  it("counts a pod deleted meanwhile, or replaced under the same name, as gone", async () => {
    cluster.api.addStatefulSet("db", "pg", 2);
    const fault = await prepare(
      "pod-kill",
      { namespace: "db", names: ["pg-0", "pg-1"] },
      { "grace-period": "0s", force: true },
    );
    // pg-0 is deleted and recreated by its StatefulSet (new uid); pg-1 simply disappears.
    cluster.api.reconciler.deletePod(cluster.api.object("pods", "db", "pg-0")!, 0);
    await eventually(() => cluster.api.object("pods", "db", "pg-0") !== undefined);
    const replacement = cluster.api.object("pods", "db", "pg-0")!.metadata.uid;
    cluster.api.store.remove("pods", "db", "pg-1");
    const out = (await fault.apply()) as { killed: string[]; gone: string[] };
    expect(out).toMatchObject({ killed: [], gone: ["pg-0", "pg-1"] });
    expect(cluster.api.object("pods", "db", "pg-0")?.metadata.uid).toBe(replacement);
  });

  it("refuses a protected namespace before any call, unless allowed", async () => {
    cluster.api.addPods("kube-system", "coredns", 2, { k8s: "dns" });
    const err = await prepareError("pod-kill", {
      namespace: "kube-system",
      labels: { k8s: "dns" },
      select: { mode: "one" },
    });
    expect(err.code).toBe("invalid");
    expect(err.message).toContain("kube-system is protected");
    expect(cluster.api.calls).toEqual([]);
    const ctx = cluster.context({ kubernetes: { "protected-namespaces": ["shop"] } });
    await expect(
      kubernetesAgent.actions["pod-kill"]!.prepare(
        { target: { namespace: "shop", names: ["x"] }, args: {} },
        ctx,
      ),
    ).rejects.toMatchObject({ code: "invalid" });
    const allowed = await prepare("pod-kill", {
      namespace: "kube-system",
      labels: { k8s: "dns" },
      select: { mode: "one" },
      "allow-protected": true,
    });
    expect(allowed.locks).toHaveLength(1);
  });

  it("refuses a target that matches nothing, or several without select, or more than max", async () => {
    cluster.api.addPods("shop", "web", 5, { app: "web" });
    const none = await prepareError("pod-kill", { namespace: "shop", selector: "app in (nothing)" });
    expect(none.message).toBe("no Running pod matches pods with labels app in (nothing) in namespace shop");
    const several = await prepareError("pod-kill", { namespace: "shop", labels: { app: "web" } });
    expect(several.message).toContain("5 pods match");
    expect(several.hint).toContain("select");
    const tooMany = await prepareError("pod-kill", {
      namespace: "shop",
      labels: { app: "web" },
      select: { mode: "all", max: 4 },
    });
    expect(tooMany.message).toContain("would touch 5 targets, more than max 4");
    expect(writes()).toEqual([]);
  });

  it("matches with set-based label selectors and field selectors as the API server reads them", async () => {
    cluster.api.addPods("shop", "a", 2, { app: "a", tier: "web" });
    cluster.api.addPods("shop", "b", 2, { app: "b", tier: "db" });
    cluster.api.addPods("shop", "c", 2, { app: "c", tier: "web" }, { node: "node-2" });
    const fault = await prepare("pod-kill", {
      namespace: "shop",
      selector: "app in (a,c),tier!=db",
      fields: "spec.nodeName=node-2",
      select: { mode: "all" },
    });
    expect(fault.locks?.map((l) => l.split("/").pop())).toEqual(["c-0", "c-1"]);
    const bad = await prepareError("pod-kill", { namespace: "shop", fields: "spec.image=x" });
    expect(bad.message).toContain("field label not supported: spec.image");
  });
});

describe("scale", () => {
  it("records the replicas it found, scales, and the revert in a fresh process restores them", async () => {
    cluster.api.addDeployment("shop", "orders", 3);
    const fault = await prepare("scale", { namespace: "shop", deployment: "orders" }, { replicas: 0 });
    const revert = fromLedger(fault);
    expect(revert).toMatchObject({
      agent: "kubernetes",
      kind: "scale",
      description: "scale deployment shop/orders back to 3 replicas",
    });
    expect(revert.data).toMatchObject({
      replicas: 3,
      cluster: { server: cluster.api.url, kubeconfig: cluster.kubeconfig },
    });
    expect(fault.locks).toEqual([`kubernetes:${cluster.api.url}:deployment/shop/orders`]);
    expect(cluster.api.object("deployments", "shop", "orders")?.spec.replicas).toBe(3);

    expect(await fault.apply()).toEqual({ from: 3, to: 0 });
    expect(cluster.api.object("deployments", "shop", "orders")?.spec.replicas).toBe(0);
    expect(await eventually(() => names("shop").length === 0)).toBe(true);

    await revertFresh(revert);
    await revertFresh(revert); // twice equals once
    expect(cluster.api.object("deployments", "shop", "orders")?.spec.replicas).toBe(3);
    expect(
      await eventually(() => cluster.api.object("deployments", "shop", "orders")?.status.readyReplicas === 3),
    ).toBe(true);
    const patches = cluster.api.calls.filter((c) => c.verb === "patch");
    expect(patches.map((c) => c.resource)).toEqual([
      "deployments/scale",
      "deployments/scale",
      "deployments/scale",
    ]);
  });

  it("scales a StatefulSet through its scale subresource", async () => {
    cluster.api.addStatefulSet("db", "pg", 2);
    const fault = await prepare("scale", { namespace: "db", statefulset: "pg" }, { replicas: 4 });
    await fault.apply();
    expect(await eventually(() => names("db").length === 4)).toBe(true);
    expect(names("db")).toEqual(["pg-0", "pg-1", "pg-2", "pg-3"]);
    await revertFresh(fromLedger(fault));
    expect(cluster.api.object("statefulsets", "db", "pg")?.spec.replicas).toBe(2);
  });

  it("reports a workload that does not exist, and a revert whose workload is gone succeeds", async () => {
    const err = await prepareError("scale", { namespace: "shop", deployment: "nope" }, { replicas: 1 });
    expect(err.code).toBe("agent");
    expect(err.message).toContain('deployments.apps "nope" not found');
    cluster.api.addDeployment("shop", "orders", 1);
    const fault = await prepare("scale", { namespace: "shop", deployment: "orders" }, { replicas: 0 });
    cluster.api.store.remove("deployments", "shop", "orders");
    await expect(revertFresh(fromLedger(fault))).resolves.toBeUndefined();
  });
});

describe("partition", () => {
  it("creates an isolating NetworkPolicy with a from exception, and the revert deletes it", async () => {
    cluster.api.addPods("shop", "payments", 2, { app: "payments" });
    const fault = await prepare(
      "partition",
      { namespace: "shop", labels: { app: "payments" } },
      { direction: "both", from: { selector: "app in (orders)" } },
    );
    expect(cluster.api.store.list("networkpolicies", "shop")).toEqual([]);
    const revert = fromLedger(fault);
    const name = revert.data.name as string;
    await fault.apply();
    await fault.apply(); // twice equals once
    const policy = cluster.api.object("networkpolicies", "shop", name)!;
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { app: "payments" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [{ podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["orders"] }] } }],
        },
      ],
      egress: [
        { to: [{ podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["orders"] }] } }] },
        // DNS stays open, or every lookup would fail before the partition is even reached
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });
    expect(policy.metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "chaoskit" });
    await revertFresh(revert);
    expect(cluster.api.object("networkpolicies", "shop", name)).toBeUndefined();
    await expect(revertFresh(revert)).resolves.toBeUndefined();
  });

  it("isolates ingress only when asked, and refuses a selector matching no pod", async () => {
    cluster.api.addPods("shop", "web", 1, { app: "web" });
    const fault = await prepare(
      "partition",
      { namespace: "shop", selector: "app=web" },
      { direction: "ingress" },
    );
    await fault.apply();
    const [policy] = cluster.api.store.list("networkpolicies", "shop");
    expect(policy?.spec).toEqual({
      podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] },
      policyTypes: ["Ingress"],
      ingress: [],
    });
    const err = await prepareError("partition", { namespace: "shop", labels: { app: "ghost" } });
    expect(err.message).toContain("no pod matches");
  });
});

describe("cordon", () => {
  it("cordons a node and the revert uncordons it", async () => {
    cluster.api.addNode("node-1");
    const fault = await prepare("cordon", { node: "node-1" });
    expect(fault.locks).toEqual([`kubernetes:${cluster.api.url}:node/node-1`]);
    await fault.apply();
    expect(cluster.api.object("nodes", undefined, "node-1")?.spec.unschedulable).toBe(true);
    await revertFresh(fromLedger(fault));
    const node = cluster.api.object("nodes", undefined, "node-1")!;
    expect(node.spec.unschedulable).toBeUndefined();
    expect(node.metadata.annotations?.["chaoskit.io/cordoned-by"]).toBeUndefined();
  });

  it("leaves a node cordoned by someone else cordoned", async () => {
    cluster.api.addNode("node-2");
    const node = cluster.api.object("nodes", undefined, "node-2")!;
    node.spec.unschedulable = true;
    cluster.api.store.put("nodes", node);
    const fault = await prepare("cordon", { node: "node-2" });
    expect(fault.revert).toBeUndefined();
    expect(await fault.apply()).toMatchObject({ cordoned: false });

    // Cordoned by this run, then uncordoned and cordoned again by an operator: the revert keeps its hands off.
    cluster.api.addNode("node-3");
    const ours = await prepare("cordon", { node: "node-3" });
    await ours.apply();
    const n3 = cluster.api.object("nodes", undefined, "node-3")!;
    delete n3.metadata.annotations;
    cluster.api.store.put("nodes", n3);
    await revertFresh(fromLedger(ours));
    expect(cluster.api.object("nodes", undefined, "node-3")?.spec.unschedulable).toBe(true);
  });
});

describe("reverts", () => {
  it("refuse to act on another cluster than the one recorded", async () => {
    cluster.api.addDeployment("shop", "orders", 1);
    const revert = fromLedger(
      await prepare("scale", { namespace: "shop", deployment: "orders" }, { replicas: 0 }),
    );
    (revert.data.cluster as { server: string }).server = "https://elsewhere.example:6443";
    await expect(revertFresh(revert)).rejects.toMatchObject({
      code: "agent",
      message: expect.stringContaining("now points at"),
    });
  });

  it("reject an unknown kind and malformed data", async () => {
    await expect(
      revertFresh({ agent: "kubernetes", kind: "undelete", description: "x", data: {} }),
    ).rejects.toMatchObject({
      hint: "known kinds: scale, delete-networkpolicy, uncordon",
    });
    await expect(
      revertFresh({ agent: "kubernetes", kind: "scale", description: "x", data: { replicas: "3" } }),
    ).rejects.toMatchObject({
      code: "agent",
    });
  });
});

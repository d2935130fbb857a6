import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { proxyFromEnvironment } from "../../src/agents/kubernetes/config.js";
import { kubernetesAgent } from "../../src/agents/kubernetes/index.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { KubeApiServer } from "../support/kube-api/server.js";
import { startTestCluster, type TestCluster } from "./cluster.js";

/**
 * What a real cluster does that a naive test server hides: DeleteOptions read from the body, StatefulSet pods
 * with generated names, pods in every phase, disruption budgets, autoscalers, policies that add up, continue
 * tokens that expire, and kubeconfig files merged as kubectl merges them.
 */

let cluster: TestCluster;

beforeEach(async () => {
  cluster = await startTestCluster({ recreateMs: 200, readyMs: 100 });
});

afterEach(async () => {
  await cluster.stop();
});

const prepare = (action: string, target: Record<string, unknown>, args: Record<string, unknown> = {}) =>
  kubernetesAgent.actions[action]!.prepare({ target, args }, cluster.context());

async function refusal(p: Promise<unknown>): Promise<ChaosError> {
  const err = await p.then(
    () => expect.fail("expected a refusal"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChaosError);
  return err as ChaosError;
}

const writes = () =>
  cluster.api.calls.filter((c) => c.verb !== "get" && c.verb !== "list" && c.verb !== "watch");

describe("the API test server, as a real one", () => {
  it("reads DeleteOptions from the body and then ignores the query", async () => {
    cluster.api.addPods("shop", "web", 2, { app: "web" });
    const token = cluster.api.token;
    const del = (name: string, body?: unknown) =>
      fetch(`${cluster.api.url}/api/v1/namespaces/shop/pods/${name}?gracePeriodSeconds=0`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    // No body: the query's 0 s applies, the pod is gone at once.
    expect((await del("web-0")).status).toBe(200);
    expect(cluster.api.object("pods", "shop", "web-0")).toBeUndefined();
    // A body without a grace period: the query is ignored, the pod's own 30 s apply.
    expect((await del("web-1", { preconditions: {} })).status).toBe(200);
    expect(cluster.api.object("pods", "shop", "web-1")?.metadata.deletionGracePeriodSeconds).toBe(30);
  });

  it("gives StatefulSet pods a generateName and an owner, as the controller builds them", () => {
    cluster.api.addStatefulSet("db", "pg", 1);
    const pod = cluster.api.object("pods", "db", "pg-0")!;
    expect((pod.metadata as { generateName?: string }).generateName).toBe("pg-");
    expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ kind: "StatefulSet", controller: true });
  });

  it("expires continue tokens after a compaction with 410 Expired", async () => {
    cluster.api.addPods("big", "web", 3, { app: "web" });
    const token = cluster.api.token;
    const list = async (cont?: string) =>
      fetch(`${cluster.api.url}/api/v1/namespaces/big/pods?limit=1${cont ? `&continue=${cont}` : ""}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    const first = (await (await list()).json()) as { metadata: { continue: string } };
    cluster.api.addNode("written-since"); // history moves on, then is compacted
    cluster.api.compact();
    const expired = await list(encodeURIComponent(first.metadata.continue));
    expect(expired.status).toBe(410);
    expect(await expired.json()).toMatchObject({ reason: "Expired", code: 410 });
  });
});

describe("pod-kill on a real cluster", () => {
  it("sends the grace period in the body with the uid precondition, so 0s really kills at once", async () => {
    cluster.api.addDeployment("shop", "payments", 2);
    const fault = await prepare(
      "pod-kill",
      { namespace: "shop", labels: { app: "payments" }, select: { mode: "one", seed: 1 } },
      { "grace-period": "0s" },
    );
    const out = (await fault.apply()) as { killed: string[] };
    expect(out.killed).toHaveLength(1);
    // Terminating for its 30 s would mean the grace period was lost in the query.
    expect(cluster.api.object("pods", "shop", out.killed[0]!)).toBeUndefined();
  });

  it("keeps the uid precondition for StatefulSet pods and refuses a force deletion of them unless forced", async () => {
    cluster.api.addStatefulSet("db", "pg", 2);
    const err = await refusal(
      prepare("pod-kill", { namespace: "db", names: ["pg-0"] }, { "grace-period": "0s" }),
    );
    expect(err.code).toBe("invalid");
    expect(err.message).toContain("force-delete StatefulSet pods (pg-0)");
    expect(err.hint).toContain("force: true");
    expect(writes()).toEqual([]);

    // A StatefulSet pod replaced under the same name between prepare and apply is not killed: the precondition
    // travels even with the pod's own grace period.
    const fault = await prepare("pod-kill", { namespace: "db", names: ["pg-1"] });
    cluster.api.reconciler.deletePod(cluster.api.object("pods", "db", "pg-1")!, 0);
    await new Promise((r) => setTimeout(r, 600));
    const replacement = cluster.api.object("pods", "db", "pg-1")!;
    expect(replacement).toBeDefined();
    const out = (await fault.apply()) as { killed: string[]; gone: string[] };
    expect(out).toMatchObject({ killed: [], gone: ["pg-1"] });
    expect(cluster.api.object("pods", "db", "pg-1")?.metadata.uid).toBe(replacement.metadata.uid);

    const forced = await prepare(
      "pod-kill",
      { namespace: "db", names: ["pg-0"] },
      { "grace-period": "0s", force: true },
    );
    expect(((await forced.apply()) as { killed: string[] }).killed).toEqual(["pg-0"]);
  });

  it("never picks a Failed, Evicted or Pending pod as a victim", async () => {
    const owner = { kind: "ReplicaSet", name: "web-7d9c5b" };
    cluster.api.addPods("shop", "failed", 3, { app: "web" }, { phase: "Failed", reason: "Evicted", owner });
    cluster.api.addPods("shop", "pending", 2, { app: "web" }, { phase: "Pending", owner });
    cluster.api.addPods("shop", "running", 1, { app: "web" }, { owner });
    const fault = await prepare("pod-kill", {
      namespace: "shop",
      labels: { app: "web" },
      select: { mode: "all" },
    });
    expect(fault.locks?.map((l) => l.slice(l.lastIndexOf("/") + 1))).toEqual(["running-0"]);
    const lists = cluster.api.calls.filter((c) => c.verb === "list");
    expect(lists.length).toBeGreaterThan(0);
    const err = await refusal(prepare("pod-kill", { namespace: "shop", names: ["failed-0", "pending-1"] }));
    expect(err.message).toContain("no Running pod matches");
  });

  it("says that a pod nothing owns is deleted for good", async () => {
    cluster.api.addPods("shop", "handmade", 1, { app: "handmade" });
    const out = (await (await prepare("pod-kill", { namespace: "shop", names: ["handmade-0"] })).apply()) as {
      unowned?: string[];
      warning?: string;
    };
    expect(out.unowned).toEqual(["handmade-0"]);
    expect(out.warning).toContain("gone for good");
  });

  it("evicts through the eviction API, which honours a PodDisruptionBudget (429), where a delete bypasses it", async () => {
    cluster.api.addDeployment("shop", "payments", 3);
    cluster.api.addDisruptionBudget("shop", "payments-pdb", { app: "payments" }, { minAvailable: 2 });
    const target = { namespace: "shop", labels: { app: "payments" }, select: { mode: "all" } };
    const out = (await (await prepare("pod-kill", target, { mode: "evict" })).apply()) as {
      killed: string[];
      refused: string[];
    };
    // 3 ready, 2 must stay: one eviction goes through, the others are refused by the budget.
    expect(out.killed).toHaveLength(1);
    expect(out.refused).toHaveLength(2);
    const evictions = cluster.api.calls.filter((c) => c.resource === "pods/eviction");
    expect(evictions).toHaveLength(3); // a 429 from a budget is not retried

    // Nothing healthy to spare: every eviction refused, and the run is told the fault did not happen.
    const budgetOnly = await prepare(
      "pod-kill",
      { namespace: "shop", labels: { app: "payments" }, select: { mode: "one", seed: 3 } },
      { mode: "evict" },
    );
    const err = await refusal(budgetOnly.apply());
    expect(err.message).toContain("refused by a PodDisruptionBudget");

    // A plain delete is not asked: the budget does not stop it.
    const deleted = (await (
      await prepare("pod-kill", {
        namespace: "shop",
        labels: { app: "payments" },
        select: { mode: "one", seed: 3 },
      })
    ).apply()) as { killed: string[] };
    expect(deleted.killed).toHaveLength(1);
  });
});

describe("scale against an autoscaler", () => {
  it("refuses a Deployment an HPA manages, touching nothing, unless forced", async () => {
    cluster.api.addDeployment("shop", "web", 3);
    cluster.api.addAutoscaler("shop", "web-hpa", { kind: "Deployment", name: "web" });
    cluster.api.addAutoscaler("shop", "other-hpa", { kind: "Deployment", name: "orders" });
    const err = await refusal(prepare("scale", { namespace: "shop", deployment: "web" }, { replicas: 0 }));
    expect(err.message).toContain("HorizontalPodAutoscaler web-hpa");
    expect(err.message).not.toContain("other-hpa");
    expect(writes()).toEqual([]);
    const forced = await prepare(
      "scale",
      { namespace: "shop", deployment: "web" },
      { replicas: 1, force: true },
    );
    expect(await forced.apply()).toMatchObject({
      from: 3,
      to: 1,
      warning: expect.stringContaining("web-hpa"),
    });
  });
});

describe("partition where policies add up", () => {
  it("warns about another policy that allows traffic to the same pods, and says the partition was not verified", async () => {
    cluster.api.addPods("shop", "payments", 2, { app: "payments", tier: "backend" });
    cluster.api.addObject("networkpolicies", {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-monitoring", namespace: "shop" },
      spec: {
        podSelector: { matchLabels: { tier: "backend" } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { name: "monitoring" } } }] }],
      },
    });
    cluster.api.addObject("networkpolicies", {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "unrelated", namespace: "shop" },
      spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"], ingress: [{}] },
    });
    const ingressOnly = await prepare(
      "partition",
      { namespace: "shop", labels: { app: "payments" } },
      {
        direction: "ingress",
      },
    );
    const out = (await ingressOnly.apply()) as { warnings?: string[]; verified: boolean; note: string };
    expect(out.warnings?.join("\n")).toContain("allow-monitoring");
    expect(out.warnings?.join("\n")).not.toContain("unrelated");
    expect(out.verified).toBe(false);
    expect(out.note).toContain("not verified");
  });

  it("keeps DNS open to an egress partition unless told not to", async () => {
    cluster.api.addPods("shop", "web", 1, { app: "web" });
    const closed = await prepare(
      "partition",
      { namespace: "shop", labels: { app: "web" } },
      {
        direction: "egress",
        "allow-dns": false,
      },
    );
    await closed.apply();
    const [policy] = cluster.api.store.list("networkpolicies", "shop");
    expect(policy?.spec.egress).toEqual([]);
  });
});

describe("listing pods", () => {
  it("starts a paged list again when its continue token has expired", async () => {
    cluster.api.addPods("big", "web", 1100, { app: "web" }, { owner: { kind: "ReplicaSet", name: "web-1" } });
    let pages = 0;
    cluster.api.onList = () => {
      pages++;
      if (pages !== 2) return;
      // The token handed out with page 2 expires before page 3 is asked for.
      cluster.api.addNode("written-since");
      cluster.api.compact();
    };
    const fault = await prepare("pod-kill", {
      namespace: "big",
      labels: { app: "web" },
      select: { mode: "percent", percent: 1, seed: 1 },
    });
    expect(fault.locks).toHaveLength(11);
    const lists = cluster.api.calls.filter((c) => c.verb === "list");
    expect(lists.length).toBe(6); // 2 pages, a 410, then 3 pages from the top
  });

  it("does not count Failed pods among the pods that should be ready", async () => {
    cluster.api.addPods("shop", "web", 2, { app: "web" });
    cluster.api.addPods("shop", "old", 3, { app: "web" }, { phase: "Failed", reason: "Evicted" });
    const r = await kubernetesAgent.probes["pods-ready"]!.run(
      { namespace: "shop", labels: { app: "web" } },
      cluster.context(),
    );
    expect(r.fields).toMatchObject({ ready: 2, total: 2, ratio: 1 });
  });
});

describe("several kubeconfig files", () => {
  it("uses the first file's current-context, as kubectl does, and takes the first definition of a name", async () => {
    const other = await new KubeApiServer().start();
    try {
      other.addPods("shop", "elsewhere", 1, { app: "web" });
      cluster.api.addPods("shop", "here", 1, { app: "web" });
      const second = join(cluster.dir, "second.yaml");
      // The second file names another cluster under the same names, and its own current-context.
      await writeFile(
        second,
        [
          "apiVersion: v1",
          "kind: Config",
          "current-context: other",
          "clusters:",
          `- name: test-cluster\n  cluster: { server: "${other.url}" }`,
          `- name: other\n  cluster: { server: "${other.url}" }`,
          "users:",
          `- name: other\n  user: { token: "${other.token}" }`,
          "contexts:",
          "- name: other\n  context: { cluster: other, user: other }",
          "",
        ].join("\n"),
      );
      const saved = process.env.KUBECONFIG;
      process.env.KUBECONFIG = [cluster.kubeconfig, second].join(":");
      try {
        const ctx = cluster.context({ configuration: {} });
        const fault = await kubernetesAgent.actions["pod-kill"]!.prepare(
          { target: { namespace: "shop", labels: { app: "web" } }, args: {} },
          ctx,
        );
        expect(fault.locks).toEqual([`kubernetes:${cluster.api.url}:pod/shop/here-0`]);
        expect(other.calls).toEqual([]);
      } finally {
        if (saved === undefined) delete process.env.KUBECONFIG;
        else process.env.KUBECONFIG = saved;
      }
    } finally {
      await other.close();
    }
  });
});

describe("credentials that refresh", () => {
  it("gives each call the connection built with the credentials of its moment when an exec plugin supplies them", async () => {
    cluster.api.addPods(
      "shop",
      "web",
      20,
      { app: "web" },
      { generated: true, owner: { kind: "ReplicaSet", name: "w" } },
    );
    // An exec plugin as cloud providers ship them: it prints an ExecCredential (here with the server's token).
    const plugin = join(cluster.dir, "credential.cjs");
    await writeFile(
      plugin,
      `process.stdout.write(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: ${JSON.stringify(cluster.api.token)} } }));`,
    );
    const kubeconfig = join(cluster.dir, "exec.yaml");
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: exec",
        `clusters:\n- name: c\n  cluster: { server: "${cluster.api.url}", insecure-skip-tls-verify: true }`,
        `users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${process.execPath}\n      args: ["${plugin}"]\n      interactiveMode: Never`,
        "contexts:\n- name: exec\n  context: { cluster: c, user: u }",
        "",
      ].join("\n"),
    );
    const before = cluster.api.connections;
    const fault = await kubernetesAgent.actions["pod-kill"]!.prepare(
      { target: { namespace: "shop", labels: { app: "web" }, select: { mode: "all" } }, args: {} },
      cluster.context({ kubernetes: { kubeconfig } }),
    );
    await fault.apply();
    // A kept connection would still present the first credentials after a refresh; none is kept here: one
    // connection per call, the list, 20 deletes and the 20 pods' ChaosFaultApplied Events.
    expect(cluster.api.calls.filter((c) => c.resource === "events")).toHaveLength(20);
    expect(cluster.api.connections - before).toBe(41);
  });
});

describe("a proxy in the environment", () => {
  it("reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY as kubectl does", () => {
    const env = { HTTPS_PROXY: "http://proxy:3128", no_proxy: ".internal,10.0.0.0/8,api.example:8443" };
    expect(proxyFromEnvironment("https://k8s.example:6443", env)).toBe("http://proxy:3128");
    expect(proxyFromEnvironment("https://api.cluster.internal:6443", env)).toBeUndefined();
    expect(proxyFromEnvironment("https://10.1.2.3:6443", env)).toBeUndefined();
    expect(proxyFromEnvironment("https://11.1.2.3:6443", env)).toBe("http://proxy:3128");
    expect(proxyFromEnvironment("https://api.example:8443", env)).toBeUndefined();
    expect(proxyFromEnvironment("https://api.example:6443", env)).toBe("http://proxy:3128");
    expect(proxyFromEnvironment("http://k8s.example", env)).toBeUndefined(); // only HTTP_PROXY serves http
    expect(proxyFromEnvironment("https://k8s.example", { ...env, NO_PROXY: "*" })).toBeUndefined();
  });

  it("sends every API call through the proxy HTTP_PROXY names, and none when NO_PROXY exempts the server", async () => {
    const tunnels: string[] = [];
    // A CONNECT proxy on loopback, as corporate proxies tunnel TLS.
    const proxy = createServer();
    proxy.on("connect", (req, client, head) => {
      tunnels.push(req.url ?? "");
      const [host, port] = (req.url ?? "").split(":");
      const upstream = connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    try {
      cluster.api.addPods("shop", "web", 1, { app: "web" });
      process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      delete process.env.NO_PROXY;
      const target = { target: { namespace: "shop", labels: { app: "web" } }, args: {} };
      await kubernetesAgent.actions["pod-kill"]!.prepare(target, cluster.context());
      expect(tunnels).toEqual([new URL(cluster.api.url).host]);
      process.env.NO_PROXY = "127.0.0.1";
      await kubernetesAgent.actions["pod-kill"]!.prepare(target, cluster.context());
      expect(tunnels).toHaveLength(1);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { type CliProcess, ensureCliBuilt, runCli, startCli, stopCli } from "../support/cli.js";
import { eventually, startTestCluster, type TestCluster } from "./cluster.js";

/**
 * `chaos run`, `chaos plan` and `chaos rollback` as built, against the test API server through a generated
 * kubeconfig: exactly how they would reach a cluster.
 */

let cluster: TestCluster;
let cli: CliProcess | undefined;

beforeAll(ensureCliBuilt, 180_000);

beforeEach(async () => {
  cluster = await startTestCluster({ recreateMs: 300, readyMs: 300 });
  cluster.api.addDeployment("shop", "payments", 3);
  cluster.api.addDeployment("shop", "orders", 3);
});

afterEach(async () => {
  await stopCli(cli);
  cli = undefined;
  await cluster.stop();
});

const ledger = () => join(cluster.dir, "ledger");
const journalPath = () => join(cluster.dir, "journal.json");
const readJournal = () => JSON.parse(readFileSync(journalPath(), "utf8")) as Journal;
const ledgerFiles = () =>
  existsSync(ledger()) ? readdirSync(ledger()).filter((f) => f.endsWith(".json")) : [];
const replicas = (name: string) => cluster.api.object("deployments", "shop", name)?.spec.replicas;
const deletes = () => cluster.api.calls.filter((c) => c.method === "DELETE");

/** Writes an experiment whose configuration points at the test server; `body` is the rest of the YAML. */
async function experiment(body: string, kubernetes = ""): Promise<string> {
  const file = join(cluster.dir, `experiment-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    file,
    `version: 1
title: kubernetes experiment
configuration:
  kubernetes: { kubeconfig: "${cluster.kubeconfig}"${kubernetes} }
${body}`,
  );
  return file;
}

/**
 * The Events of one object as `kubectl describe` finds them: a list of core/v1 Events selected by the
 * involved object's kind, namespace, name and uid.
 */
async function eventsOf(kind: string, namespace: string, name: string, uid: string) {
  const fields = `involvedObject.kind=${kind},involvedObject.namespace=${namespace},involvedObject.name=${name},involvedObject.uid=${uid}`;
  const res = await fetch(
    `${cluster.api.url}/api/v1/namespaces/${namespace}/events?fieldSelector=${encodeURIComponent(fields)}`,
    { headers: { authorization: `Bearer ${cluster.api.token}` } },
  );
  expect(res.status).toBe(200);
  // biome-ignore lint/suspicious/noExplicitAny: Events as JSON
  return ((await res.json()) as { items: any[] }).items;
}

const run = (file: string, timeoutMs = 30_000) =>
  runCli(["run", file, "--ledger", ledger(), "--journal", journalPath(), "--no-reports"], { timeoutMs });

const HYPOTHESIS = `steady-state:
  probes:
    - name: payments mostly ready
      kubernetes.pods-ready: { namespace: shop, labels: { app: payments } }
      tolerance: ">= 2"
    - name: orders available
      kubernetes.deployment: { namespace: shop, name: orders }
      tolerance: ">= 3"
  during: { every: 100ms }
  after: { within: 10s }
`;

/** Kills one payments pod, then scales orders from 3 to 4 replicas for 1 s. */
const KILL_ONE_PAYMENTS_SCALE_ORDERS = `${HYPOTHESIS}method:
  - action: kubernetes.pod-kill
    target: { namespace: shop, labels: { app: payments }, select: { mode: count, count: 1, seed: 42, max: 2 } }
    args: { grace-period: 0s }
  - action: kubernetes.scale
    target: { namespace: shop, deployment: orders }
    args: { replicas: 4 }
    duration: 1s
`;

/** Starts a run that scales orders to `to` replicas for 30 s, and waits until the server shows it. */
async function scaleOrdersFor30s(to: number): Promise<CliProcess> {
  const file = await experiment(`method:
  - action: kubernetes.scale
    target: { namespace: shop, deployment: orders }
    args: { replicas: ${to} }
    duration: 30s
`);
  const started = startCli(["run", file, "--ledger", ledger(), "--journal", journalPath(), "--no-reports"], {
    timeoutMs: 25_000,
  });
  if (!(await eventually(() => replicas("orders") === to, 15_000))) {
    throw new Error(`orders never reached ${to} replicas\n${started.stdout()}\n${started.stderr()}`);
  }
  return started;
}

describe("chaos run against the API server", () => {
  it("holds when one payments pod is killed and orders is scaled up, and recovers", async () => {
    const file = await experiment(KILL_ONE_PAYMENTS_SCALE_ORDERS);
    const uids = new Map(cluster.api.pods("shop").map((p) => [p.metadata.name, p.metadata.uid]));
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    // The cluster and context are said before anything is touched.
    const said = r.stdout.indexOf(`kubernetes acts on cluster ${cluster.api.url}, context test`);
    expect(said, r.stdout).toBeGreaterThan(-1);
    expect(said).toBeLessThan(r.stdout.indexOf("method"));
    const j = readJournal();
    expect(j.status).toBe("held");
    expect((j.method[0]!.output as { killed: string[] }).killed).toHaveLength(1);
    expect(j.method[1]!.output).toEqual({ from: 3, to: 4 });
    expect(j.rollbacks).toEqual([
      expect.objectContaining({
        description: "scale deployment shop/orders back to 3 replicas",
        status: "succeeded",
      }),
    ]);
    expect(j.steadyState.during.length).toBeGreaterThan(2);
    expect(replicas("orders")).toBe(3);
    expect(ledgerFiles()).toEqual([]);
    expect(await eventually(() => cluster.api.pods("shop").length === 6)).toBe(true);

    // Each object the run touched has its Events, naming the run and the experiment.
    const named = `chaoskit run ${j.runId} (experiment "kubernetes experiment")`;
    const killed = (j.method[0]!.output as { killed: string[] }).killed[0]!;
    const podEvents = await eventsOf("Pod", "shop", killed, uids.get(killed)!);
    expect(podEvents).toEqual([
      expect.objectContaining({
        reason: "ChaosFaultApplied",
        type: "Normal",
        message: `${named}: kubernetes.pod-kill: pod deleted (grace period 0s)`,
        involvedObject: {
          kind: "Pod",
          apiVersion: "v1",
          namespace: "shop",
          name: killed,
          uid: uids.get(killed),
        },
        source: expect.objectContaining({ component: "chaoskit" }),
        reportingComponent: "chaoskit",
        reportingInstance: expect.any(String),
        count: 1,
      }),
    ]);
    expect(Date.parse(podEvents[0].firstTimestamp)).toBeGreaterThan(Date.parse(j.start) - 1000);
    const orders = cluster.api.object("deployments", "shop", "orders")!.metadata.uid!;
    const deploymentEvents = await eventsOf("Deployment", "shop", "orders", orders);
    expect(deploymentEvents.map((e) => [e.reason, e.type, e.message])).toEqual([
      ["ChaosFaultApplied", "Normal", `${named}: kubernetes.scale: scaled from 3 to 4 replicas`],
      ["ChaosFaultReverted", "Normal", `${named}: kubernetes.scale reverted: scaled back to 3 replicas`],
    ]);
    expect(deploymentEvents[0].involvedObject).toEqual({
      kind: "Deployment",
      apiVersion: "apps/v1",
      namespace: "shop",
      name: "orders",
      uid: orders,
    });
  });

  it("keeps its verdict and exit code when the account may not create Events, and says so once", async () => {
    cluster.api.inject({ method: "POST", path: /\/events$/, status: 403 });
    const file = await experiment(KILL_ONE_PAYMENTS_SCALE_ORDERS);
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    const j = readJournal();
    expect(j.status).toBe("held");
    expect(j.rollbacks).toEqual([expect.objectContaining({ status: "succeeded" })]);
    expect(replicas("orders")).toBe(3);
    // One attempt, refused: the run records no further Event, and the journal and run.log say it once.
    expect(cluster.api.calls.filter((c) => c.resource === "events")).toHaveLength(1);
    expect((j.method[0]!.output as { events?: string }).events).toMatch(
      /^Kubernetes Events not recorded \(kubernetes: forbidden to create events in namespace shop: .*\); the run goes on without them$/,
    );
    expect(j.method[1]!.output).toEqual({ from: 3, to: 4 });
    const log = readFileSync(join(cluster.dir, "run.log"), "utf8");
    expect(log.match(/Kubernetes Events not recorded/g)).toHaveLength(1);
  });

  it("deviates when payments is scaled to zero, and still restores its replicas", async () => {
    const file = await experiment(`${HYPOTHESIS}method:
  - action: kubernetes.scale
    target: { namespace: shop, deployment: payments }
    args: { replicas: 0 }
    duration: 2s
`);
    const r = await run(file);
    expect(r.code, r.stderr).toBe(1);
    const j = readJournal();
    expect(j.status).toBe("deviated");
    const during = j.steadyState.during.filter((p) => p.probe === "payments mostly ready");
    expect(during.some((p) => !p.ok && p.value === 0)).toBe(true);
    // The recovery probes watched the Deployment come back after the revert.
    expect(j.steadyState.after.filter((p) => p.probe === "payments mostly ready").at(-1)).toMatchObject({
      ok: true,
    });
    expect(replicas("payments")).toBe(3);
  });

  it("restores the replicas when interrupted by SIGINT mid-scale", async () => {
    cli = await scaleOrdersFor30s(0);
    expect(ledgerFiles()).toHaveLength(1);
    cli.child.kill("SIGINT");
    const r = await cli.result;
    expect(r.code, r.stderr).toBe(3);
    expect(replicas("orders")).toBe(3);
    expect(ledgerFiles()).toEqual([]);
    expect(readJournal().rollbacks[0]).toMatchObject({ status: "succeeded" });
  });

  it("leaves the scale in the ledger when killed outright, and chaos rollback restores it", async () => {
    cli = await scaleOrdersFor30s(1);
    cli.child.kill("SIGKILL");
    expect((await cli.result).signal).toBe("SIGKILL");
    expect(replicas("orders")).toBe(1);
    const [entry] = ledgerFiles();
    expect(JSON.parse(readFileSync(join(ledger(), entry!), "utf8")).revert).toMatchObject({
      agent: "kubernetes",
      kind: "scale",
      data: { replicas: 3, cluster: { server: cluster.api.url } },
    });

    // A fresh process with no experiment: the ledger entry alone says which cluster and what to restore.
    const rb = await runCli(["rollback", "--ledger", ledger()], { env: { KUBECONFIG: "" } });
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toContain("scale deployment shop/orders back to 3 replicas");
    expect(replicas("orders")).toBe(3);
    expect(ledgerFiles()).toEqual([]);
  });
});

describe("chaos run refusals, before anything is touched", () => {
  const kill = (target: string) =>
    experiment(`method:
  - action: kubernetes.pod-kill
    target: ${target}
    args: { grace-period: 0s }
`);

  it("refuses a protected namespace, making no call at all", async () => {
    cluster.api.addPods("kube-system", "coredns", 2, { k8s: "dns" });
    const r = await run(
      await kill("{ namespace: kube-system, labels: { k8s: dns }, select: { mode: one } }"),
    );
    // Found while running (a step failed), so the run could not judge: exit 4.
    expect(r.code, r.stderr).toBe(4);
    expect(readJournal().reasons.join("\n")).toContain("namespace kube-system is protected");
    expect(cluster.api.calls).toEqual([]);
    expect(cluster.api.pods("kube-system")).toHaveLength(2);
  });

  it("refuses a target that matches no pod (exit 4)", async () => {
    const r = await run(await kill("{ namespace: shop, labels: { app: ghost }, select: { mode: one } }"));
    expect(r.code, r.stderr).toBe(4);
    expect(readJournal().reasons.join("\n")).toContain(
      "no Running pod matches pods with labels app=ghost in namespace shop",
    );
    expect(deletes()).toEqual([]);
  });

  it("refuses a selection beyond the blast-radius cap (exit 4)", async () => {
    const r = await run(
      await kill(
        "{ namespace: shop, selector: 'app in (payments,orders)', select: { mode: percent, percent: 50, max: 2 } }",
      ),
    );
    expect(r.code, r.stderr).toBe(4);
    expect(readJournal().reasons.join("\n")).toContain("would touch 3 targets, more than max 2");
    expect(deletes()).toEqual([]);
    expect(cluster.api.pods("shop")).toHaveLength(6);
  });

  it("says which RBAC verb is missing when the API server forbids the delete (exit 4)", async () => {
    cluster.api.inject({ method: "DELETE", status: 403 });
    const r = await run(await kill("{ namespace: shop, labels: { app: payments }, select: { mode: one } }"));
    expect(r.code, r.stderr).toBe(4);
    const reasons = readJournal().reasons.join("\n");
    expect(reasons).toContain("kubernetes: forbidden to delete pods in namespace shop");
    expect(reasons).toContain('grant the verb "delete" on "pods"');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("retries a 429 after its Retry-After and completes (exit 0)", async () => {
    cluster.api.inject({ method: "DELETE", status: 429, retryAfter: 1, times: 1 });
    const r = await run(await kill("{ namespace: shop, labels: { app: payments }, select: { mode: one } }"));
    expect(r.code, r.stderr).toBe(0);
    expect(deletes()).toHaveLength(2);
    expect(deletes()[0]!.path).toBe(deletes()[1]!.path);
  });

  it("gives up on an API server that accepts and never answers, with a bounded exit 4", async () => {
    cluster.api.inject({ hang: true });
    const file = await experiment(
      `method:
  - action: kubernetes.pod-kill
    target: { namespace: shop, labels: { app: payments }, select: { mode: one } }
`,
      ", call-timeout: 1s",
    );
    const start = Date.now();
    const r = await run(file, 20_000);
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(4);
    expect(Date.now() - start).toBeLessThan(10_000);
    expect(readJournal().reasons.join("\n")).toContain(
      "list pods in namespace shop: no answer within 1000 ms",
    );
  });
});

describe("chaos plan", () => {
  it("lists exactly the pods a seeded run then kills", async () => {
    const file = await experiment(`method:
  - action: kubernetes.pod-kill
    target: { namespace: shop, selector: "app in (payments,orders)", select: { mode: count, count: 2, seed: 7 } }
    args: { grace-period: 0s }
`);
    const plan = await runCli(["plan", file]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`kubernetes acts on cluster ${cluster.api.url}, context test`);
    const planned = [...plan.stdout.matchAll(/pod\/shop\/(\S+)/g)].map((m) => m[1]).sort();
    expect(planned).toHaveLength(2);
    expect(deletes()).toEqual([]);
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    expect((readJournal().method[0]!.output as { killed: string[] }).killed).toEqual(planned);
  });

  it("says so, and exits 4, when it cannot tell what a run would touch", async () => {
    await cluster.api.close();
    const file = await experiment(`method:
  - action: kubernetes.pod-kill
    target: { namespace: shop, labels: { app: payments }, select: { mode: one } }
`);
    const plan = await runCli(["plan", file]);
    expect(plan.code).toBe(4);
    expect(plan.stdout).toContain("cannot tell what it would touch");
  });
});

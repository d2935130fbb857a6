import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import type { Agent } from "../../src/agents/agent.js";
import { STOP_FILE } from "../../src/agents/kubernetes/ephemeral.js";
import { networkAgent } from "../../src/agents/network/index.js";
import { stressAgent } from "../../src/agents/stress/index.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { CLI, type CliProcess, ensureCliBuilt, runCli, startCli, stopCli } from "../support/cli.js";
import type { Json } from "../support/kube-api/store.js";
import { eventually, startTestCluster, type TestCluster } from "./cluster.js";

/**
 * network.* and stress.* on `target: { pod: … }`: an ephemeral container added through the
 * pods/ephemeralcontainers subresource of the test API server, stopped early through pods/exec, reached by
 * `chaos rollback` after the run is killed; and the container's own command, run here for real.
 */

let cluster: TestCluster;
let cli: CliProcess | undefined;

beforeAll(ensureCliBuilt, 180_000);

beforeEach(async () => {
  cluster = await startTestCluster({ recreateMs: 300, readyMs: 300 });
  cluster.api.addPods("shop", "payments", 2, { app: "payments" });
  // What the container does on `touch <stop file>`: its helper undoes the fault and it exits 0.
  cluster.api.onExec = (e) => {
    if (e.command.join(" ") === `touch ${STOP_FILE}`)
      cluster.api.terminateContainer(e.namespace, e.pod, e.container, 0);
    return { exitCode: 0 };
  };
});

afterEach(async () => {
  await stopCli(cli);
  cli = undefined;
  await cluster.stop();
});

const pod = (name = "payments-0") => cluster.api.object("pods", "shop", name)!;
const ephemerals = (name = "payments-0"): Json[] => pod(name).spec.ephemeralContainers ?? [];
const stateOf = (container: string, name = "payments-0") =>
  pod(name).status.ephemeralContainerStatuses?.find((s: Json) => s.name === container)?.state;

async function inject(agent: Agent, action: string, target: Json, args: Json, durationMs = 30_000) {
  const ctx = cluster.context({ kubernetes: { image: "registry.example/chaoskit:0.1.0" } });
  const fault = await agent.actions[action]!.prepare({ target, args, durationMs }, ctx);
  const output = await fault.apply();
  return { fault, output, ctx };
}

/** The helper's command line inside the container, after `--`. */
const helperOf = (c: Json): string[] => c.command.slice(c.command.indexOf("--") + 1);

describe("network faults in a pod", () => {
  it("adds an ephemeral container: the toolkit's image, NET_ADMIN as root, the deadline, the target container", async () => {
    const target = { pod: { namespace: "shop", labels: { app: "payments" }, select: { mode: "all" } } };
    const { fault, output } = await inject(networkAgent, "latency", target, {
      to: ["10.0.0.5:5432"],
      latency: "300ms",
    });
    for (const name of ["payments-0", "payments-1"]) {
      const [c] = ephemerals(name);
      expect(c).toMatchObject({
        image: "registry.example/chaoskit:0.1.0",
        targetContainerName: "app",
        securityContext: {
          runAsUser: 0,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] },
        },
      });
      expect(c.name).toMatch(/^chaos-network-[a-z0-9]+$/);
      expect(c.command.slice(0, 8)).toEqual([
        "node",
        "/opt/chaoskit/dist/src/cli/main.js",
        "ephemeral",
        "--for",
        "30s",
        "--stop-file",
        STOP_FILE,
        "--",
      ]);
      const helper = helperOf(c);
      expect(helper.slice(0, 2)).toEqual(["intercept", "--tag"]);
      const plan = JSON.parse(helper[helper.indexOf("--plan") + 1]!);
      expect(plan.tag).toBe(helper[2]);
      expect(plan.intercept.egress).toEqual([{ cidr: "10.0.0.5/32", port: 5432 }]);
      expect(plan.intercept.toxics[0]).toMatchObject({ type: "latency", attributes: { latency: 300 } });
      expect(stateOf(c.name, name)?.running).toBeDefined();
    }
    expect(output).toMatchObject({ pods: [{ pod: "shop/payments-0" }, { pod: "shop/payments-1" }] });
    expect(fault.revert).toMatchObject({
      agent: "network",
      kind: "stop-ephemeral-container",
      data: { cluster: { server: cluster.api.url }, pods: [{ name: "payments-0" }, { name: "payments-1" }] },
    });
    const patches = cluster.api.calls.filter((c) => c.resource === "pods/ephemeralcontainers");
    expect(patches.map((c) => c.verb)).toEqual(["patch", "patch"]);
  });

  it("reverts early through pods/exec of `touch <stop file>`, waits for the container to stop, and is idempotent", async () => {
    const { fault, ctx } = await inject(
      networkAgent,
      "partition",
      { pod: { namespace: "shop", names: ["payments-1"] } },
      { to: [":5432"] },
    );
    const [c] = ephemerals("payments-1");
    const revert = JSON.parse(JSON.stringify(fault.revert));
    expect(await networkAgent.revert(revert, ctx)).toBeUndefined();
    expect(cluster.api.execs).toEqual([
      { namespace: "shop", pod: "payments-1", container: c.name, command: ["touch", STOP_FILE] },
    ]);
    expect(stateOf(c.name, "payments-1")?.terminated).toMatchObject({ exitCode: 0 });
    // Again: the container has stopped, nothing to do.
    await networkAgent.revert(revert, ctx);
    expect(cluster.api.execs).toHaveLength(1);
    // A pod replaced since is left alone, with a note.
    cluster.api.store.remove("pods", "shop", "payments-1");
    cluster.api.addPods("shop", "payments", 2, { app: "payments" });
    expect(await networkAgent.revert(revert, ctx)).toMatchObject({
      note: expect.stringContaining("replaced"),
    });
  });

  it("fails the revert (the ledger keeps it) when the container does not stop; a failing exec is named", async () => {
    process.env.CHAOS_EPHEMERAL_STOP_TIMEOUT_MS = "500";
    onTestFinished(() => {
      delete process.env.CHAOS_EPHEMERAL_STOP_TIMEOUT_MS;
    });
    const { fault, ctx } = await inject(
      networkAgent,
      "loss",
      { pod: { namespace: "shop", names: ["payments-0"] } },
      { probability: 0.3 },
    );
    const revert = JSON.parse(JSON.stringify(fault.revert));
    cluster.api.onExec = () => ({ exitCode: 1 });
    await expect(networkAgent.revert(revert, ctx)).rejects.toThrow(
      /exec "touch \/tmp\/chaos-stop".*exit code 1/,
    );
    cluster.api.onExec = () => ({ exitCode: 0 });
    await expect(networkAgent.revert(revert, ctx)).rejects.toThrow(/still runs/);
    cluster.api.inject({ path: /\/exec$/, status: 403, times: 1 });
    await expect(networkAgent.revert(revert, ctx)).rejects.toMatchObject({
      message: expect.stringContaining("403"),
      hint: expect.stringContaining("pods/exec"),
    });
  }, 20_000);
});

describe("the cluster refuses ephemeral containers", () => {
  const latency = () =>
    inject(
      networkAgent,
      "latency",
      { pod: { namespace: "shop", names: ["payments-0"] } },
      { latency: "100ms" },
    );

  it("a namespace whose Pod Security level forbids NET_ADMIN: a clear error, nothing added", async () => {
    cluster.api.podSecurity.set("shop", "baseline");
    const err = await latency().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChaosError);
    expect((err as ChaosError).message).toMatch(
      /forbids an ephemeral container in pod shop\/payments-0: .*violates PodSecurity "baseline:latest": non-default capabilities .*NET_ADMIN/,
    );
    expect((err as ChaosError).hint).toMatch(/pod-security.kubernetes.io\/enforce/);
    expect(ephemerals()).toEqual([]);
  });

  it("RBAC without pods/ephemeralcontainers: names the verb to grant", async () => {
    cluster.api.inject({ path: /ephemeralcontainers$/, status: 403 });
    await expect(latency()).rejects.toMatchObject({
      message: expect.stringContaining("forbids an ephemeral container"),
      hint: expect.stringContaining('"patch" on "pods/ephemeralcontainers"'),
    });
  });

  it("a server without the subresource (before 1.23)", async () => {
    await cluster.stop();
    cluster = await startTestCluster({ ephemeralContainers: false });
    cluster.api.addPods("shop", "payments", 1, { app: "payments" });
    await expect(latency()).rejects.toThrow(/does not serve ephemeral containers/);
  });
});

describe("stress in a pod", () => {
  it("runs the stressor unprivileged, sized by the container's limits; refuses memory over the limit", async () => {
    const p = pod();
    p.spec.containers[0].resources = { limits: { cpu: "1500m", memory: "256Mi" } };
    cluster.api.store.put("pods", p);
    const target = { pod: { namespace: "shop", names: ["payments-0"] } };
    await inject(stressAgent, "cpu", target, { load: 50 }, 20_000);
    const [c] = ephemerals();
    expect(c.securityContext).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.command.slice(3, 5)).toEqual(["--for", "20s"]);
    expect(helperOf(c)).toEqual(
      expect.arrayContaining(["stress", "cpu", "--workers", "2", "--load", "50", "--for", "20000ms"]),
    );
    await expect(inject(stressAgent, "memory", target, { size: "250Mi" })).rejects.toThrow(
      /would leave less than a margin .* 256Mi limit/,
    );
    const { output } = await inject(stressAgent, "memory", target, { size: "50%" });
    expect(output).toBeDefined();
    expect(helperOf(ephemerals()[1])).toEqual(
      expect.arrayContaining(["memory", "--size", String(128 * 2 ** 20)]),
    );
  });

  it("fills the volume that holds path: the ephemeral container mounts it (whole, without subPath) and writes as the container", async () => {
    const p = pod();
    p.spec.volumes = [
      { name: "data", emptyDir: {} },
      { name: "config", configMap: { name: "payments" } },
      { name: "shared", persistentVolumeClaim: { claimName: "shared" } },
    ];
    p.spec.containers[0].volumeMounts = [
      { name: "data", mountPath: "/var/data" },
      { name: "config", mountPath: "/etc/app", readOnly: true },
      { name: "shared", mountPath: "/srv", subPath: "payments" },
    ];
    p.spec.securityContext = { runAsUser: 1000, runAsGroup: 3000 };
    cluster.api.store.put("pods", p);
    const target = { pod: { namespace: "shop", names: ["payments-0"] } };
    const { fault } = await inject(
      stressAgent,
      "disk",
      target,
      { path: "/var/data/cache", size: "50%" },
      20_000,
    );
    const [c] = ephemerals();
    expect(c.volumeMounts).toEqual([{ name: "data", mountPath: "/var/data" }]);
    expect(c.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true });
    expect(c.command.slice(3, 5)).toEqual(["--for", "20s"]);
    const tag = (fault.revert!.data as { tag: string }).tag;
    expect(helperOf(c)).toEqual(
      expect.arrayContaining([
        "stress",
        "disk",
        "--file",
        `/var/data/cache/.chaoskit-fill-${tag}`,
        "--size",
        "50%",
      ]),
    );
    expect(fault.revert).toMatchObject({ agent: "stress", kind: "stop-ephemeral-container" });
    await inject(stressAgent, "disk", target, { path: "/srv/uploads", free: "100Mi" });
    const d = ephemerals()[1];
    expect(d.volumeMounts).toEqual([{ name: "shared", mountPath: "/srv" }]);
    expect(helperOf(d)).toEqual(expect.arrayContaining(["--free", "100Mi"]));
    expect(helperOf(d)[helperOf(d).indexOf("--file") + 1]).toMatch(
      /^\/srv\/payments\/uploads\/\.chaoskit-fill-/,
    );
    // Refused before anything is added: a path on the container's own filesystem, a read-only volume.
    for (const [path, why] of [
      ["/tmp", /path \/tmp is not under any volume mount of container app of pod shop\/payments-0/],
      ["/etc/app/x", /volume config holding \/etc\/app\/x is mounted read-only/],
    ] as const) {
      const err = await inject(stressAgent, "disk", target, { path, size: "1Mi" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChaosError);
      expect((err as ChaosError).code).toBe("invalid");
      expect((err as ChaosError).message).toMatch(why);
    }
    expect(ephemerals()).toHaveLength(2);
  });
});

describe("usage of a pod through the metrics API", () => {
  const cpu = (target: Json) => stressAgent.probes["cpu-usage"]!.run({ target }, cluster.context());
  const memory = (target: Json) => stressAgent.probes["memory-usage"]!.run({ target }, cluster.context());
  const one = (container?: string) => ({
    pod: { namespace: "shop", names: ["payments-0"], ...(container ? { container } : {}) },
  });

  beforeEach(() => {
    const p = pod();
    p.spec.containers[0].resources = { limits: { cpu: "500m", memory: "256Mi" } };
    cluster.api.store.put("pods", p);
  });

  it("reads the pod's usage (every container, the stressor's included) or one container's, against its limits", async () => {
    // As metrics-server writes them: nanocores and kibibytes.
    cluster.api.metrics.set("shop", "payments-0", {
      containers: {
        app: { cpu: "250000000n", memory: "65536Ki" },
        "chaos-stress-1a2b": { cpu: "200000000n", memory: "1024Ki" },
      },
    });
    const whole = await cpu(one());
    expect(whole.value).toBeCloseTo(0.45, 3);
    expect(whole.fields).toMatchObject({
      cores: 0.45,
      percent: 90,
      limit: 0.5,
      limited: true,
      window: "15s",
    });
    expect(whole.summary).toMatch(
      /^0\.45 cores in pod shop\/payments-0 \(90% of its limit of 0\.5 cores\); metrics API, 15s window/,
    );
    const app = await cpu(one("app"));
    expect(app.fields).toMatchObject({ cores: 0.25, percent: 50 });
    expect((await memory(one())).fields).toMatchObject({
      bytes: 65 * 2 ** 20,
      limit: 256 * 2 ** 20,
      percent: 25.4,
    });
    expect((await memory(one("app"))).value).toBe(64 * 2 ** 20);
    const reads = cluster.api.calls.filter((c) => c.group === "metrics.k8s.io");
    expect(reads.map((c) => `${c.verb} ${c.resource} ${c.namespace}/${c.name}`)).toEqual(
      Array(4).fill("get pods shop/payments-0"),
    );
  });

  it("fails (could not see), never passes, without a reading: no metrics API, none for the pod yet, a stale one", async () => {
    const blind = async (target: Json, pattern: RegExp) => {
      for (const probe of [cpu, memory]) {
        const err = await probe(target).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ChaosError);
        expect((err as ChaosError).code).toBe("agent");
        expect((err as ChaosError).message).toMatch(pattern);
      }
    };
    await blind(one(), /the metrics API has no usage of pod shop\/payments-0 yet/);
    cluster.api.metrics.set("shop", "payments-0", {
      containers: { app: { cpu: "1m", memory: "1Mi" } },
      timestamp: new Date(Date.now() - 10 * 60_000),
    });
    await blind(
      one(),
      /cannot see the usage of pod shop\/payments-0: the reading is from .* more than 5 minutes ago/,
    );
    cluster.api.metrics.set("shop", "payments-0", { containers: { app: { cpu: "", memory: "1Mi" } } });
    await blind(one(), /container app has no readable usage/);
    cluster.api.metrics.set("shop", "payments-0", { containers: { other: { cpu: "1m", memory: "1Mi" } } });
    await blind(one("app"), /lists no container of it/);
    cluster.api.metrics.served = false;
    await blind(one(), /serves no resource metrics API \(metrics\.k8s\.io\/v1beta1\)/);
  });

  it("in a run: a steady state judged on a pod without metrics is not judged (exit 4), never held", async () => {
    const file = join(cluster.dir, "pod-usage.yaml");
    await writeFile(
      file,
      `version: 1
title: payments' CPU
configuration:
  kubernetes: { kubeconfig: "${cluster.kubeconfig}" }
steady-state:
  probes:
    - name: payments under half a core
      stress.cpu-usage: { target: { pod: { namespace: shop, names: [payments-0] } } }
      tolerance: "< 0.5"
method:
  - pause: 10ms
`,
    );
    const r = await runCli(["run", file, "--journal", join(cluster.dir, "j.json"), "--no-reports"], {
      env: { KUBECONFIG: "" },
      timeoutMs: 30_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toMatch(/could not judge: .*no usage of pod shop\/payments-0 yet/);
  }, 40_000);
});

describe("the API test server's ephemeralcontainers subresource", () => {
  const url = (name = "payments-0") =>
    `${cluster.api.url}/api/v1/namespaces/shop/pods/${name}/ephemeralcontainers`;
  const send = (method: string, body: unknown, type = "application/strategic-merge-patch+json") =>
    fetch(url(), {
      method,
      headers: { authorization: `Bearer ${cluster.api.token}`, "content-type": type },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));
  const debug = { name: "debugger", image: "busybox", targetContainerName: "app" };

  it("adds, then refuses changes, removals, duplicate names, unknown targets and forbidden fields", async () => {
    expect((await send("PATCH", { spec: { ephemeralContainers: [debug] } })).status).toBe(200);
    const changed = await send("PATCH", { spec: { ephemeralContainers: [{ ...debug, image: "alpine" }] } });
    expect(changed).toMatchObject({ status: 422, body: { reason: "Invalid" } });
    expect(changed.body.message).toContain('existing ephemeral containers "debugger" may not be changed');
    const current = pod();
    const removed = await send(
      "PUT",
      { ...current, spec: { ...current.spec, ephemeralContainers: [] } },
      "application/json",
    );
    expect(removed.body.message).toContain('existing ephemeral containers "debugger" may not be removed');
    const dup = await send("PATCH", { spec: { ephemeralContainers: [{ name: "app", image: "x" }] } });
    expect(dup.body.message).toContain('spec.ephemeralContainers[1].name: Duplicate value: "app"');
    const bad = await send("PATCH", {
      spec: {
        ephemeralContainers: [
          { name: "b", image: "x", targetContainerName: "nope", ports: [{ containerPort: 1 }] },
        ],
      },
    });
    expect(bad.body.message).toContain('targetContainerName: Not found: "nope"');
    expect(bad.body.message).toContain("ports: Forbidden: cannot be set for an Ephemeral Container");
    const p = pod();
    p.spec.volumes = [{ name: "data", emptyDir: {} }];
    cluster.api.store.put("pods", p);
    const mounts = await send("PATCH", {
      spec: {
        ephemeralContainers: [
          {
            name: "m",
            image: "x",
            volumeMounts: [
              { name: "nope", mountPath: "/a" },
              { name: "data", mountPath: "/b", subPath: "s" },
            ],
          },
        ],
      },
    });
    expect(mounts.body.message).toContain('volumeMounts[0].name: Not found: "nope"');
    expect(mounts.body.message).toContain("volumeMounts[1].subPath: Forbidden");
    expect(ephemerals().map((c) => c.name)).toEqual(["debugger"]);
    expect(stateOf("debugger")?.running).toBeDefined();
  });
});

describe("chaos run and chaos rollback", () => {
  const ledger = () => join(cluster.dir, "ledger");
  const ledgerFiles = () =>
    existsSync(ledger()) ? readdirSync(ledger()).filter((f) => f.endsWith(".json")) : [];

  it("records the pod fault before it is applied; after SIGKILL, chaos rollback stops the container", async () => {
    const file = join(cluster.dir, "pod-stress.yaml");
    await writeFile(
      file,
      `version: 1
title: payments starved of CPU
configuration:
  kubernetes: { kubeconfig: "${cluster.kubeconfig}" }
method:
  - action: stress.cpu
    target: { pod: { namespace: shop, labels: { app: payments }, select: { mode: one } } }
    args: { workers: 1 }
    duration: 30s
`,
    );
    cli = startCli(
      ["run", file, "--ledger", ledger(), "--journal", join(cluster.dir, "j.json"), "--no-reports"],
      {
        timeoutMs: 25_000,
      },
    );
    const added = () =>
      cluster.api.pods("shop").find((p) => (p.status.ephemeralContainerStatuses ?? []).length > 0);
    expect(await eventually(() => added() !== undefined, 15_000), cli.stderr()).toBe(true);
    cli.child.kill("SIGKILL");
    expect((await cli.result).signal).toBe("SIGKILL");
    const victim = added()!;
    const container = victim.spec.ephemeralContainers[0].name;
    expect(victim.status.ephemeralContainerStatuses[0].state.running).toBeDefined();
    const [entry] = ledgerFiles();
    expect(JSON.parse(readFileSync(join(ledger(), entry!), "utf8")).revert).toMatchObject({
      agent: "stress",
      kind: "stop-ephemeral-container",
      data: { pods: [{ name: victim.metadata.name, container }] },
    });

    const rb = await runCli(["rollback", "--ledger", ledger()], { env: { KUBECONFIG: "" } });
    expect(rb.code, rb.stderr).toBe(0);
    expect(cluster.api.execs).toEqual([
      { namespace: "shop", pod: victim.metadata.name, container, command: ["touch", STOP_FILE] },
    ]);
    expect(stateOf(container, victim.metadata.name)?.terminated).toMatchObject({ exitCode: 0 });
    expect(ledgerFiles()).toEqual([]);
  }, 60_000);
});

const CPU_HELPER = [
  "stress",
  "cpu",
  "--workers",
  "1",
  "--load",
  "5",
  "--for",
  "60000ms",
  "--tag",
  "pods-test",
];

describe("the ephemeral container's command, run for real", () => {
  /** `chaos ephemeral … -- stress cpu …` as the container runs it, with a stop file of the test's own. */
  function container(forMs: number, stopFile: string, helper = CPU_HELPER) {
    const child = spawn(
      process.execPath,
      [CLI, "ephemeral", "--for", `${forMs}ms`, "--stop-file", stopFile, "--", ...helper],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    const started = Date.now();
    const done = new Promise<{ code: number | null; ms: number }>((resolve) =>
      child.once("close", (code) => resolve({ code, ms: Date.now() - started })),
    );
    return { child, done, stderr: () => stderr, stdout: () => stdout };
  }
  const stressors = () =>
    readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("pods-test");
        } catch {
          return false;
        }
      });

  it("a disk fill writes its file into the folder and removes it at the stop file and at its deadline", async () => {
    const stopFile = join(cluster.dir, "stop-disk");
    const fill = join(cluster.dir, ".chaoskit-fill-pods-test-disk");
    const disk = [
      "stress",
      "disk",
      "--file",
      fill,
      "--size",
      "2Mi",
      "--for",
      "60000ms",
      "--tag",
      "pods-test-disk",
    ];
    const a = container(60_000, stopFile, disk);
    expect(await eventually(() => a.stdout().includes('"event":"held"'), 15_000), a.stderr()).toBe(true);
    expect(statSync(fill).size).toBe(2 * 2 ** 20);
    await writeFile(stopFile, "");
    expect((await a.done).code, a.stderr()).toBe(0);
    expect(existsSync(fill)).toBe(false);
    const b = container(3000, stopFile, disk);
    expect(await eventually(() => b.stdout().includes('"event":"held"'), 15_000), b.stderr()).toBe(true);
    expect(existsSync(fill)).toBe(true);
    expect((await b.done).code, b.stderr()).toBe(0);
    expect(b.stderr()).toContain('"reason":"deadline"');
    expect(existsSync(fill)).toBe(false);
  }, 40_000);

  it("stops at its deadline, and earlier when the stop file appears, leaving no stressor", async () => {
    const stopFile = join(cluster.dir, "stop");
    // Baseline: the deadline alone ends it.
    const a = container(4000, stopFile);
    const byDeadline = await a.done;
    expect(byDeadline.code, a.stderr()).toBe(0);
    expect(a.stderr()).toContain('"reason":"deadline"');
    // With a 60 s deadline, the stop file ends it within a few seconds.
    const b = container(60_000, stopFile);
    expect(await eventually(() => b.stdout().includes('"event":"ready"'), 10_000), b.stderr()).toBe(true);
    expect(stressors().length).toBe(2);
    await writeFile(stopFile, "");
    const byFile = await b.done;
    expect(byFile.code, b.stderr()).toBe(0);
    expect(b.stderr()).toContain('"reason":"stop file"');
    expect(byFile.ms).toBeLessThan(20_000);
    expect(stressors()).toEqual([]);
  }, 40_000);
});

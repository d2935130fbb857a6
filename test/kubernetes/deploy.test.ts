import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { defaultRegistry } from "../../src/agents/index.js";
import { kubernetesAgent } from "../../src/agents/kubernetes/index.js";
import { networkAgent } from "../../src/agents/network/index.js";
import { stressAgent } from "../../src/agents/stress/index.js";
import { loadExperiment } from "../../src/experiments/load.js";
import type { Experiment } from "../../src/experiments/model.js";
import { ROOT } from "../support/cli.js";
import type { Call } from "../support/kube-api/server.js";
import { startTestCluster, type TestCluster } from "./cluster.js";

/**
 * The files that put the toolkit and the sample shop on a cluster: the experiments load, the manifests
 * agree with them, and the Role grants every call the agent makes — and nothing it does not make.
 */

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
type Manifest = any;

const manifests = (path: string): Manifest[] =>
  parseAllDocuments(readFileSync(join(ROOT, path), "utf8")).map((d) => {
    expect(d.errors, path).toEqual([]);
    return d.toJS();
  });

const EXPERIMENTS = join(ROOT, "experiments", "k8s");
const experimentFiles = readdirSync(EXPERIMENTS).filter((f) => f.endsWith(".yaml"));

describe("experiments/k8s", () => {
  it.each(experimentFiles)("%s validates with every agent's schemas", async (file) => {
    const e = await loadExperiment(join(EXPERIMENTS, file), { registry: defaultRegistry() });
    expect(e.method.some((s) => s.kind === "action" && s.agent === "kubernetes")).toBe(true);
  });

  it("act on namespaces, labels and Deployments the sample shop has", async () => {
    const shop = manifests("examples/target-app/k8s/shop.yaml");
    const deployments = shop.filter((m) => m.kind === "Deployment");
    for (const file of experimentFiles) {
      const e: Experiment = await loadExperiment(join(EXPERIMENTS, file), { registry: defaultRegistry() });
      for (const step of e.method) {
        if (step.kind !== "action") continue;
        const t = step.target as { namespace: string; labels?: Record<string, string>; deployment?: string };
        const inNamespace = deployments.filter((d) => d.metadata.namespace === t.namespace);
        expect(inNamespace.length, `${file}: namespace ${t.namespace}`).toBeGreaterThan(0);
        if (t.deployment) expect(inNamespace.map((d) => d.metadata.name)).toContain(t.deployment);
        if (t.labels) {
          const matching = inNamespace.filter((d) =>
            Object.entries(t.labels!).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
          );
          expect(matching.length, `${file}: labels ${JSON.stringify(t.labels)}`).toBeGreaterThan(0);
        }
      }
    }
  });
});

describe("examples/target-app/k8s", () => {
  const shop = manifests("examples/target-app/k8s/shop.yaml");

  it("gives every Deployment matching selectors, a scrape annotation and a readiness probe or a Service", () => {
    const deployments = shop.filter((m) => m.kind === "Deployment");
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
      "gateway",
      "loadgen",
      "orders",
      "payments",
      "web",
    ]);
    for (const d of deployments) {
      const labels = d.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) expect(labels[k]).toBe(v);
      expect(d.spec.template.metadata.annotations).toMatchObject({
        "prometheus.io/scrape": "true",
        "prometheus.io/path": "/metrics",
      });
      const port = Number(d.spec.template.metadata.annotations["prometheus.io/port"]);
      expect(
        d.spec.template.spec.containers[0].ports.map((p: { containerPort: number }) => p.containerPort),
      ).toContain(port);
      // The image is the toolkit's (deploy/Dockerfile), whose dist/ holds the compiled sample services.
      const [, script] = d.spec.template.spec.containers[0].command;
      const source = script.replace("/opt/chaoskit/dist/", "").replace(/\.js$/, ".ts");
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      if (d.metadata.name === "loadgen") continue;
      const service = shop.find((m) => m.kind === "Service" && m.metadata.name === d.metadata.name);
      expect(service?.spec.selector).toEqual(d.spec.selector.matchLabels);
    }
  });

  it("has Prometheus keep exactly the pods the scrape annotation marks, in the shop's namespace", () => {
    const docs = manifests("examples/target-app/k8s/prometheus.yaml");
    const config = parseAllDocuments(
      docs.find((d) => d.kind === "ConfigMap").data["prometheus.yml"],
    )[0]!.toJS();
    const [job] = config.scrape_configs;
    expect(job.kubernetes_sd_configs).toEqual([{ role: "pod", namespaces: { names: ["shop"] } }]);
    expect(job.relabel_configs[0]).toMatchObject({
      source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
      action: "keep",
      regex: "true",
    });
    const role = docs.find((d) => d.kind === "Role");
    expect(role.metadata.namespace).toBe("shop");
    expect(role.rules[0].verbs).toEqual(["get", "list", "watch"]);
    const service = docs.find((d) => d.kind === "Service");
    expect(
      `http://${service.metadata.name}.${service.metadata.namespace}:${service.spec.ports[0].port}`,
    ).toBe("http://prometheus.monitoring:9090");
  });

  it("points every service at the Service of the one it calls", () => {
    const services = new Set(shop.filter((m) => m.kind === "Service").map((s) => s.metadata.name));
    for (const d of shop.filter((m) => m.kind === "Deployment")) {
      for (const env of d.spec.template.spec.containers[0].env ?? []) {
        const m = /^http:\/\/([a-z-]+):8080$/.exec(env.value);
        if (m) expect(services, `${d.metadata.name} ${env.name}`).toContain(m[1]);
      }
    }
  });
});

describe("deploy/", () => {
  it("runs the experiment from the ConfigMap as the service account, with a journal on the volume and in the log", async () => {
    const [config] = manifests("deploy/configmap.yaml");
    expect(config.data["experiment.yaml"]).toBe(
      readFileSync(join(EXPERIMENTS, "payments-pod-killed.yaml"), "utf8"),
    );
    const [job] = manifests("deploy/job.yaml");
    const [cron] = manifests("deploy/cronjob.yaml");
    for (const pod of [job.spec.template.spec, cron.spec.jobTemplate.spec.template.spec]) {
      expect(pod.serviceAccountName).toBe("chaoskit");
      expect(pod.volumes).toContainEqual({ name: "experiment", configMap: { name: "chaoskit-experiment" } });
      const script = pod.containers[0].args.join("\n");
      expect(script).toContain("run /experiment/experiment.yaml");
      expect(script).toContain('--journal "$dir/journal.json"');
      expect(script).toContain('cat "$dir/journal.json"');
      expect(pod.initContainers[0].args.slice(0, 3)).toEqual(["rollback", "--ledger", "/state/ledger"]);
    }
    expect(cron.spec.concurrencyPolicy).toBe("Forbid");
  });
});

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

describe("deploy/rbac.yaml", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ recreateMs: 50, readyMs: 50 });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  /** Every action with its revert, and every probe, as a run and `chaos rollback` make them. */
  async function exerciseTheAgent(): Promise<Call[]> {
    const { api } = cluster;
    api.addDeployment("shop", "payments", 3);
    api.addStatefulSet("shop", "db", 1);
    api.addNode("node-1");
    const ctx = cluster.context();
    const act = async (name: string, target: Record<string, unknown>, args: Record<string, unknown> = {}) => {
      const fault = await kubernetesAgent.actions[name]!.prepare({ target, args }, ctx);
      await fault.apply();
      if (fault.revert)
        await kubernetesAgent.revert(
          JSON.parse(JSON.stringify(fault.revert)),
          cluster.context({ configuration: {} }),
        );
    };
    await act(
      "pod-kill",
      { namespace: "shop", labels: { app: "payments" }, select: { mode: "one" } },
      { "grace-period": "0s" },
    );
    await act("pod-kill", { namespace: "shop", names: ["db-0"] });
    await act(
      "pod-kill",
      { namespace: "shop", labels: { app: "payments" }, select: { mode: "one" } },
      { mode: "evict" },
    );
    await act("scale", { namespace: "shop", deployment: "payments" }, { replicas: 1 });
    await act("scale", { namespace: "shop", statefulset: "db" }, { replicas: 2 });
    await act(
      "partition",
      { namespace: "shop", labels: { app: "payments" } },
      { from: { labels: { app: "web" } } },
    );
    await act("cordon", { node: "node-1" });
    // Faults of the network and stress agents in a pod, and their early reverts.
    api.onExec = (e) => {
      api.terminateContainer(e.namespace, e.pod, e.container, 0);
      return { exitCode: 0 };
    };
    for (const [agent, action, args] of [
      [networkAgent, "latency", { latency: "100ms" }],
      [stressAgent, "cpu", { workers: 1 }],
    ] as const) {
      const fault = await agent.actions[action]!.prepare(
        {
          target: { pod: { namespace: "shop", labels: { app: "payments" }, select: { mode: "one" } } },
          args,
          durationMs: 10_000,
        },
        ctx,
      );
      await fault.apply();
      await agent.revert(JSON.parse(JSON.stringify(fault.revert)), cluster.context({ configuration: {} }));
    }
    // The stress agent's usage probes of a pod read the metrics API.
    const first = api
      .pods("shop")
      .find(
        (p) =>
          p.metadata.labels?.app === "payments" &&
          p.status.phase === "Running" &&
          !p.metadata.deletionTimestamp,
      );
    api.metrics.set("shop", first!.metadata.name, { containers: { app: { cpu: "5m", memory: "1Mi" } } });
    for (const probe of ["cpu-usage", "memory-usage"])
      await stressAgent.probes[probe]!.run(
        { target: { pod: { namespace: "shop", names: [first!.metadata.name] } } },
        ctx,
      );
    for (const [probe, args] of [
      ["pods-ready", { namespace: "shop", labels: { app: "payments" } }],
      ["restarts", { namespace: "shop", selector: "app" }],
      ["deployment", { namespace: "shop", name: "payments" }],
      ["pods", { namespace: "shop", all: true, conditions: [{ type: "Ready", status: "True" }] }],
      ["pod-logs", { namespace: "shop", names: [first!.metadata.name] }],
    ] as const) {
      await kubernetesAgent.probes[probe]!.run(args, ctx);
    }
    return api.calls;
  }

  it("grants every call the agent makes, and nothing it never makes", async () => {
    const docs = manifests("deploy/rbac.yaml");
    const sa = docs.find((d) => d.kind === "ServiceAccount");
    const boundTo = (kind: string) =>
      docs
        .filter(
          (d) =>
            d.kind === kind &&
            d.subjects.some(
              (s: { name: string; namespace: string }) =>
                s.name === sa.metadata.name && s.namespace === sa.metadata.namespace,
            ),
        )
        .map((b) => b.roleRef.name);
    const roles = docs.filter((d) => d.kind === "Role" && boundTo("RoleBinding").includes(d.metadata.name));
    const clusterRoles = docs.filter(
      (d) => d.kind === "ClusterRole" && boundTo("ClusterRoleBinding").includes(d.metadata.name),
    );
    const granted = (c: Call, rules: Rule[]) =>
      rules.some(
        (r) => r.apiGroups.includes(c.group) && r.resources.includes(c.resource) && r.verbs.includes(c.verb),
      );

    const calls = await exerciseTheAgent();
    const used = new Set<string>();
    for (const c of calls) {
      const rules: Rule[] = c.namespace
        ? roles.filter((r) => r.metadata.namespace === c.namespace).flatMap((r) => r.rules)
        : clusterRoles.flatMap((r) => r.rules);
      expect(granted(c, rules), `${c.method} ${c.path} (${c.verb} ${c.group}/${c.resource})`).toBe(true);
      used.add(`${c.group}/${c.resource}/${c.verb}`);
    }
    const grants = [...roles, ...clusterRoles].flatMap((r) =>
      r.rules.flatMap((rule: Rule) =>
        rule.apiGroups.flatMap((g) =>
          rule.resources.flatMap((res) => rule.verbs.map((v) => `${g}/${res}/${v}`)),
        ),
      ),
    );
    expect(grants.filter((g) => !used.has(g))).toEqual([]);
  });
});

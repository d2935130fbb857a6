import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ROOT } from "../support/cli.js";

/**
 * Every Kubernetes manifest the repository ships, checked as a cluster would check it: against the
 * Kubernetes OpenAPI schema (through kubernetes-models' validators), and the toolkit's own pods against the
 * Pod Security Standard "restricted". The Job's shell is run as PID 1 of a fresh PID namespace, as in a pod,
 * to show that a SIGTERM reaches the run and that its verdict is the pod's exit code.
 */

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
type Manifest = any;

const FILES = [
  ...readdirSync(join(ROOT, "deploy"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => `deploy/${f}`),
  ...readdirSync(join(ROOT, "examples/target-app/k8s"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => `examples/target-app/k8s/${f}`),
];

const docs = (file: string): Manifest[] =>
  parseAllDocuments(readFileSync(join(ROOT, file), "utf8"))
    .map((d) => d.toJS())
    .filter(Boolean);

/** kubernetes-models' module for a kind: `kubernetes-models/<group>/<version>/<Kind>` ("v1" for the core). */
async function validatorFor(m: Manifest): Promise<(m: Manifest) => void> {
  const [group, version] = m.apiVersion.includes("/") ? m.apiVersion.split("/") : ["", m.apiVersion];
  const path = group
    ? `kubernetes-models/${group}/${version}/${m.kind}`
    : `kubernetes-models/${version}/${m.kind}`;
  const mod = (await import(path)) as Record<string, new (o: Manifest) => { validate(): void }>;
  const Model = mod[m.kind];
  if (!Model) throw new Error(`no model for ${m.apiVersion} ${m.kind}`);
  return (o) => new Model(o).validate();
}

describe("Kubernetes manifests", () => {
  it.each(FILES)("%s is valid against the Kubernetes OpenAPI schema", async (file) => {
    const list = docs(file);
    expect(list.length).toBeGreaterThan(0);
    for (const m of list) {
      const validate = await validatorFor(m);
      expect(() => validate(m), `${file}: ${m.kind} ${m.metadata?.name}`).not.toThrow();
    }
  });

  it("the schema check catches a wrong manifest (it can fail)", async () => {
    const [job] = docs("deploy/job.yaml");
    const broken = structuredClone(job);
    broken.spec.template.spec.containers[0].image = 42;
    broken.spec.backoffLimit = "one";
    const validate = await validatorFor(job);
    expect(() => validate(broken)).toThrow(/image|backoffLimit/);
  });
});

/** The toolkit's own pod specs: the Job's, the CronJob's. */
const toolkitPods = (): { where: string; spec: Manifest }[] => [
  { where: "deploy/job.yaml", spec: docs("deploy/job.yaml")[0].spec.template.spec },
  { where: "deploy/cronjob.yaml", spec: docs("deploy/cronjob.yaml")[0].spec.jobTemplate.spec.template.spec },
];

const ALLOWED_VOLUMES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

/**
 * The Pod Security Standard "restricted" (kubernetes.io/docs/concepts/security/pod-security-standards),
 * check by check, as the PodSecurity admission controller applies it. Returns what it violates.
 */
function restrictedViolations(pod: Manifest): string[] {
  const out: string[] = [];
  const podSc = pod.securityContext ?? {};
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) out.push("host namespaces");
  for (const v of pod.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== "name");
    if (!type || !ALLOWED_VOLUMES.includes(type)) out.push(`volume ${v.name} of type ${type}`);
  }
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const name = `container ${c.name}`;
    if (sc.privileged) out.push(`${name}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${name}: allowPrivilegeEscalation must be false`);
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes("ALL")) out.push(`${name}: capabilities.drop must include ALL`);
    const add: string[] = sc.capabilities?.add ?? [];
    if (add.some((cap) => cap !== "NET_BIND_SERVICE")) out.push(`${name}: adds ${add.join(",")}`);
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) out.push(`${name}: runAsNonRoot must be true`);
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) out.push(`${name}: runAsUser 0`);
    const seccomp = (sc.seccompProfile ?? podSc.seccompProfile)?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      out.push(`${name}: seccompProfile must be RuntimeDefault or Localhost`);
    }
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${name}: hostPort`);
    if (!c.resources?.requests || !c.resources?.limits?.memory) out.push(`${name}: no resources`);
  }
  return out;
}

describe("the toolkit's own pods", () => {
  it.each(toolkitPods())(
    "$where passes Pod Security 'restricted', every container with resources",
    ({ spec }) => {
      expect(restrictedViolations(spec)).toEqual([]);
    },
  );

  it("the restricted check finds what the admission controller would refuse", () => {
    const bad = structuredClone(toolkitPods()[0]!.spec);
    delete bad.securityContext.seccompProfile;
    bad.initContainers[0].securityContext = {};
    bad.volumes.push({ name: "host", hostPath: { path: "/" } });
    const v = restrictedViolations(bad);
    expect(v).toContain("volume host of type hostPath");
    expect(v).toContain("container rollback: allowPrivilegeEscalation must be false");
    expect(v).toContain("container chaos: seccompProfile must be RuntimeDefault or Localhost");
  });

  it.each(toolkitPods())(
    "$where leaves the rollback room (terminationGracePeriodSeconds) and fails the Job on a verdict",
    ({ spec, where }) => {
      expect(spec.terminationGracePeriodSeconds, where).toBeGreaterThanOrEqual(60);
      const job = where.includes("cronjob") ? docs(where)[0].spec.jobTemplate.spec : docs(where)[0].spec;
      expect(job.podFailurePolicy.rules[0]).toMatchObject({
        action: "FailJob",
        onExitCodes: { containerName: "chaos", operator: "In", values: [1, 2, 3, 4] },
      });
      expect(job.backoffLimit).toBe(1);
    },
  );
});

/**
 * The Job's container script with the toolkit replaced by a stand-in run: it waits for SIGTERM, then takes
 * `rollbackMs` to "roll back", writes its journal and exits 3 (aborted), as `chaos run` does.
 */
function jobScript(state: string, experiment: string, standIn: string): string {
  const [job] = docs("deploy/job.yaml");
  const script: string = job.spec.template.spec.containers[0].args[0];
  return script
    .replaceAll("/state", state)
    .replaceAll("/experiment", experiment)
    .replace("node /opt/chaoskit/dist/src/cli/main.js", `node ${standIn}`);
}

const STAND_IN = `
const fs = require("node:fs");
const path = require("node:path");
const journal = process.argv[process.argv.indexOf("--journal") + 1];
fs.mkdirSync(path.dirname(journal), { recursive: true });
fs.writeFileSync(journal + ".started", String(process.pid));
process.on("SIGTERM", () => {
  setTimeout(() => {
    fs.writeFileSync(journal, JSON.stringify({ verdict: "aborted", rolledBack: true }));
    process.exit(3);
  }, 300);
});
setInterval(() => {}, 1000);
`;

const canUnsharePid = process.getuid?.() === 0;
const describeAsPid1 = canUnsharePid || process.env.CI ? describe : describe.skip;

describeAsPid1("the Job's shell as PID 1 of its pod", () => {
  const dir = mkdtempSync(join(tmpdir(), "chaos-job-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function startPod(state: string): {
    done: Promise<{ code: number | null; out: string }>;
    pid: () => number;
  } {
    const standIn = join(dir, "stand-in.cjs");
    writeFileSync(standIn, STAND_IN);
    const script = jobScript(state, join(dir, "experiment"), standIn);
    // A new PID namespace: the shell is PID 1 there, with PID 1's signal rules (no default action).
    const child = spawn("unshare", ["--pid", "--fork", "--kill-child", "sh", "-c", script], {
      env: { ...process.env, JOB_UID: "job-uid-1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    return {
      done: new Promise((resolve) => child.on("exit", (code) => resolve({ code, out }))),
      pid: () => child.pid!,
    };
  }

  /** The pid (in our namespace) of the shell that is PID 1 in the pod's: unshare's only child. */
  function podInit(unsharePid: number): number {
    const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, "utf8").trim();
    return Number(children.split(" ")[0]);
  }

  it("forwards SIGTERM to the run, waits for its rollback, prints the journal and exits with the verdict", async () => {
    const state = join(dir, "state-a");
    const pod = startPod(state);
    const started = () =>
      readdirSync(join(state, "runs"), { recursive: true }).some((f) => String(f).endsWith(".started"));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        if (started()) break;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(started()).toBe(true);
    process.kill(podInit(pod.pid()), "SIGTERM"); // what the kubelet sends to PID 1
    const { code, out } = await pod.done;
    expect(out).toContain('"rolledBack":true');
    expect(code).toBe(3);
  }, 30_000);

  it("does not run the faults again in a second pod of the same Job", async () => {
    const state = join(dir, "state-b");
    const first = startPod(state);
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(podInit(first.pid()), "SIGTERM");
    await first.done;
    const second = await startPod(state).done;
    expect(second.code).toBe(4);
    expect(second.out).toContain("not running again");
  }, 30_000);
});

import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import { listPids, readCmdline, readStat } from "../../src/agents/process/proc.js";
import { connect } from "../proxy/helpers.js";
import { canUseCgroups, makeCgroup } from "../support/cgroup.js";
import { type CliProcess, startCli, stopCli } from "../support/cli.js";
import { hasDocker, startDockerSuite, type TestContainers } from "../support/docker.js";
import { writeKubeconfig } from "../support/kube-api/kubeconfig.js";
import { KubeApiServer } from "../support/kube-api/server.js";
import { canUseNamespaces, echoServer, roundTrips, TestNamespace } from "../support/netns.js";
import { httpGet, startTarget, type Target } from "../support/target.js";

/**
 * One kind of target the kill matrix interrupts runs against. A new agent (docker, kubernetes) is one more
 * entry in `scenarios()`: start what it needs once, arrange a victim per case, and say what is left of the
 * fault after the case.
 */
export interface Scenario {
  name: string;
  /** A fresh victim for one case. */
  arrange(caseId: string): Promise<Arrangement>;
  /** Stops what the scenario shares between cases. */
  close(): Promise<void>;
}

export interface Arrangement {
  /** YAML of the experiment's `configuration` block, if any (indented by two spaces). */
  configuration?: string;
  /** The URL the steady-state probe GETs (it must answer 200 when all is well). */
  probeUrl: string;
  /** YAML of the fault step's `action`, `target` and `args` (indented by four spaces). */
  fault: string;
  /** What is left of the fault once the run (and, after SIGKILL, `chaos rollback`) is over; [] when nothing. */
  leftovers(): Promise<string[]>;
  dispose(): Promise<void>;
}

/** A process victim must run again (not stopped, 'T') and answer. */
async function victimProblems(target: Target): Promise<string[]> {
  // A revert's SIGCONT takes effect at once; a short wait only absorbs the scheduler.
  let state = (await readStat(target.pid))?.state;
  for (let i = 0; i < 10 && (state === "T" || state === "t"); i++) {
    await new Promise((r) => setTimeout(r, 50));
    state = (await readStat(target.pid))?.state;
  }
  if (state === undefined) return [`victim pid ${target.pid} is gone`];
  if (state === "T" || state === "t") return [`victim pid ${target.pid} is still stopped (state ${state})`];
  try {
    const r = await httpGet(`${target.url}/health`, 2000);
    return r.status === 200 ? [] : [`victim answers ${r.status}`];
  } catch (err) {
    return [`victim does not answer: ${(err as Error).message}`];
  }
}

const processScenario: Scenario = {
  name: "process",
  async arrange() {
    const target = await startTarget();
    return {
      probeUrl: `${target.url}/health`,
      fault: `    action: process.suspend
    target: { pid-file: "${target.pidFile}" }`,
      leftovers: () => victimProblems(target),
      dispose: () => target.stop(),
    };
  },
  close: async () => undefined,
};

/** A service on a fixed port that writes its pid file: what `process.restart` stops and starts again. */
const SERVICE = `
const [pidFile, port] = process.argv.slice(1);
require("node:fs").writeFileSync(pidFile, String(process.pid));
require("node:http").createServer((req, res) => {
  const delay = Number(new URL(req.url, "http://x").searchParams.get("delay")) || 0;
  setTimeout(() => res.end("ok"), Math.min(delay, 5000));
}).listen(Number(port), "127.0.0.1");
`;

const restartScenario: Scenario = {
  name: "process-restart",
  async arrange(caseId) {
    const dir = await mkdtemp(join(tmpdir(), `chaos-km-service-${caseId}-`));
    const pidFile = join(dir, "service.pid");
    const port = await freePort();
    const argv = [process.execPath, "-e", SERVICE, pidFile, String(port)];
    const first = spawn(argv[0]!, argv.slice(1), { stdio: "ignore", detached: true });
    first.unref();
    const url = `http://127.0.0.1:${port}`;
    const answers = () =>
      httpGet(`${url}/health`, 1000).then(
        (r) => r.status === 200,
        () => false,
      );
    const pid = () => Number(readFileSync(pidFile, "utf8"));
    await until(answers, 10_000);
    return {
      probeUrl: `${url}/health`,
      fault: `    action: process.restart
    target: { pid-file: "${pidFile}", start: ${JSON.stringify(argv)} }
    args: { grace: 2s }`,
      async leftovers() {
        // Whatever the interruption, the service must run again: restarted by the run or by `chaos rollback`.
        if (
          await until(answers, 3000).then(
            () => true,
            () => false,
          )
        )
          return [];
        return [`the service on port ${port} is down (pid file says ${pid()})`];
      },
      async dispose() {
        killAll(new Set([first.pid!, pid()]));
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  close: async () => undefined,
};

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What `left` still finds after giving it 5 s to find nothing: [] once it did. */
async function settled(left: () => Promise<string[]>): Promise<string[]> {
  return until(async () => (await left()).length === 0, 5000).then(
    (): string[] => [],
    () => left(),
  );
}

/** The processes (of `pids`, or of the whole machine) whose command line passes `test`. */
async function processesMatching(test: (cmdline: string) => boolean, pids?: number[]): Promise<number[]> {
  const found: number[] = [];
  for (const pid of pids ?? (await listPids())) {
    const cmd = await readCmdline(pid);
    if (cmd !== undefined && test(cmd)) found.push(pid);
  }
  return found;
}

/** SIGKILLs each of `pids` that still runs. */
function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** The embedded proxy lives in the run: once the run is over, its listening port must be closed. */
const embeddedToxiproxy: Scenario = {
  name: "toxiproxy-embedded",
  async arrange(caseId) {
    const target = await startTarget();
    const listen = await freePort();
    return {
      configuration: `  toxiproxy:
    proxies:
      - { name: km-${caseId}, listen: "127.0.0.1:${listen}", upstream: "127.0.0.1:${target.port}" }`,
      probeUrl: `http://127.0.0.1:${listen}/health`,
      fault: `    action: toxiproxy.latency
    target: { proxy: km-${caseId} }
    args: { latency: 50ms }`,
      async leftovers() {
        const open = await connect(listen).then(
          (s) => {
            s.destroy();
            return true;
          },
          () => false,
        );
        return [
          ...(open ? [`embedded proxy still listens on ${listen}`] : []),
          ...(await victimProblems(target)),
        ];
      },
      dispose: () => target.stop(),
    };
  },
  close: async () => undefined,
};

/** `chaos proxy` as a standalone Toxiproxy shared by every case; each case has its own proxy on it. */
function externalToxiproxy(): Scenario {
  let server: Promise<{ cli: CliProcess; url: string }> | undefined;
  const start = async () => {
    const port = await freePort();
    const cli = startCli(["proxy", "--port", String(port)], { timeoutMs: 30 * 60_000 });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (
        await fetch(`${url}/version`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return { cli, url };
      if (i > 100) throw new Error(`chaos proxy did not answer at ${url}:\n${cli.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    name: "toxiproxy-external",
    async arrange(caseId) {
      server ??= start();
      const { url } = await server;
      const target = await startTarget();
      const listen = await freePort();
      const name = `km-${caseId}`;
      const created = await fetch(`${url}/proxies`, {
        method: "POST",
        body: JSON.stringify({ name, listen: `127.0.0.1:${listen}`, upstream: `127.0.0.1:${target.port}` }),
      });
      if (!created.ok) throw new Error(`creating proxy ${name}: ${created.status} ${await created.text()}`);
      return {
        configuration: `  toxiproxy:
    url: "${url}"`,
        probeUrl: `http://127.0.0.1:${listen}/health`,
        fault: `    action: toxiproxy.latency
    target: { proxy: ${name} }
    args: { latency: 50ms }`,
        async leftovers() {
          const res = await fetch(`${url}/proxies/${name}/toxics`);
          const problems = res.ok ? [] : [`proxy ${name} is gone (${res.status})`];
          const toxics = res.ok ? ((await res.json()) as { name: string }[]) : [];
          for (const t of toxics) problems.push(`toxic ${t.name} remains on ${name}`);
          return [...problems, ...(await victimProblems(target))];
        },
        async dispose() {
          await fetch(`${url}/proxies/${name}`, { method: "DELETE" }).catch(() => undefined);
          await target.stop();
        },
      };
    },
    async close() {
      if (server) await stopCli((await server).cli);
    },
  };
}

/** A paused container must run again once the run (or `chaos rollback`) is over. */
function dockerScenario(): Scenario {
  let suite: Promise<TestContainers> | undefined;
  return {
    name: "docker",
    async arrange(caseId) {
      suite ??= startDockerSuite();
      const containers = await suite;
      const short = `km-${caseId}`;
      await containers.start(short);
      const target = await startTarget();
      return {
        probeUrl: `${target.url}/health`,
        fault: `    action: docker.pause
    target: { name: ${containers.name(short)} }`,
        async leftovers() {
          const state = await containers.state(short);
          return [
            ...(state === "running" ? [] : [`container ${short} is ${state}`]),
            ...(await victimProblems(target)),
          ];
        },
        async dispose() {
          await containers.docker
            .getContainer(containers.name(short))
            .remove({ force: true })
            .catch(() => undefined);
          await target.stop();
        },
      };
    },
    async close() {
      if (suite) await (await suite).removeAll();
    },
  };
}

/** A Deployment scaled to zero must have its replicas back once the run (or `chaos rollback`) is over. */
function kubernetesScenario(): Scenario {
  let cluster: Promise<{ api: KubeApiServer; kubeconfig: string; dir: string }> | undefined;
  const start = async () => {
    const api = await new KubeApiServer().start();
    const dir = await mkdtemp(join(tmpdir(), "chaos-km-kube-"));
    return { api, dir, kubeconfig: await writeKubeconfig(dir, api.url, api.token) };
  };
  return {
    name: "kubernetes",
    async arrange(caseId) {
      cluster ??= start();
      const { api, kubeconfig } = await cluster;
      const name = `web-${caseId}`.toLowerCase();
      api.addDeployment("km", name, 2);
      const target = await startTarget();
      const replicas = () => api.object("deployments", "km", name)?.spec.replicas as number | undefined;
      return {
        configuration: `  kubernetes:
    kubeconfig: "${kubeconfig}"`,
        probeUrl: `${target.url}/health`,
        fault: `    action: kubernetes.scale
    target: { namespace: km, deployment: ${name} }
    args: { replicas: 0 }`,
        async leftovers() {
          const now = replicas();
          return [
            ...(now === 2 ? [] : [`deployment km/${name} has ${now} replicas, not 2`]),
            ...(await victimProblems(target)),
          ];
        },
        dispose: () => target.stop(),
      };
    },
    async close() {
      if (!cluster) return;
      const { api, dir } = await cluster;
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A disk fill on the host: once the run (or `chaos rollback`) is over, no fill file and no stressor may be
 * left, whichever way the run was interrupted (the stressor also stops by itself when its run dies).
 */
const stressScenario: Scenario = {
  name: "stress",
  async arrange(caseId) {
    const dir = await mkdtemp(join(tmpdir(), `chaos-km-stress-${caseId}-`));
    const target = await startTarget();
    const stressors = () =>
      processesMatching((cmd) => cmd.includes(" stress disk ") && cmd.includes(`--file ${dir}/`));
    return {
      probeUrl: `${target.url}/health`,
      fault: `    action: stress.disk
    args: { path: "${dir}", size: 1Mi }`,
      async leftovers() {
        // A stressor told to stop (or orphaned by a SIGKILL) removes its file and exits within moments.
        const left = await settled(async () => [
          ...(await stressors()).map((pid) => `stressor pid ${pid} still runs`),
          ...readdirSync(dir).map((f) => `fill file ${f} left in ${dir}`),
        ]);
        return [...left, ...(await victimProblems(target))];
      },
      async dispose() {
        killAll(await stressors());
        await target.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  close: async () => undefined,
};

/**
 * CPU burnt inside a process's own cgroup (v1, half a core): once the run (or `chaos rollback`) is over, no
 * stressor may be left anywhere and the victim's cgroup holds the victim alone (no stressor task in it).
 */
const stressCpuScenario: Scenario = {
  name: "stress-cpu",
  async arrange() {
    const group = await makeCgroup({ cpuCores: 0.5 });
    const target = await startTarget().catch(async (err) => {
      await group.remove();
      throw err;
    });
    await group.add(target.pid);
    const cgroupDir = group.dirs.cpuacct!;
    const stressors = () =>
      processesMatching((cmd) => cmd.includes(" stress cpu ") && cmd.includes(`--cgroup ${cgroupDir}`));
    const left = async () => [
      ...(await stressors()).map((pid) => `stressor pid ${pid} still runs`),
      ...(await group.pids())
        .filter((pid) => pid !== target.pid)
        .map((pid) => `task ${pid} left in the cgroup`),
    ];
    return {
      probeUrl: `${target.url}/health`,
      fault: `    action: stress.cpu
    target: { process: { pid: ${target.pid} } }
    args: { workers: 1, load: 50 }`,
      async leftovers() {
        // A stressor told to stop (or orphaned by a SIGKILL: its pipe closes) exits within moments.
        const problems = await settled(left);
        return [...problems, ...(await victimProblems(target))];
      },
      async dispose() {
        killAll(await stressors());
        await target.stop();
        await group.remove();
      },
    };
  },
  close: async () => undefined,
};

/**
 * Latency by interception on a process in a network namespace of the case's own: once the run (or, after a
 * SIGKILL, `chaos rollback`) is over, no rule tagged by chaos and no helper (interceptor) may be left, and the
 * victim answers (a rule left pointing at a dead interceptor would refuse it).
 */
const networkScenario: Scenario = {
  name: "network",
  async arrange() {
    const ns = await TestNamespace.create("km");
    const victim = await echoServer(ns, "victim");
    const target = await startTarget();
    const helpers = async () => {
      const pids = (await ns.exec(["ip", "netns", "pids", ns.name]).catch(() => ""))
        .split("\n")
        .filter(Boolean)
        .map(Number);
      return processesMatching((cmd) => cmd.includes(" intercept "), pids);
    };
    const left = async () => [
      ...(await ns.rules())
        .split("\n")
        .filter((l) => l.includes("chaos:"))
        .map((l) => `rule left: ${l}`),
      ...(await helpers()).map((pid) => `helper pid ${pid} still runs`),
    ];
    return {
      probeUrl: `${target.url}/health`,
      fault: `    action: network.latency
    target: { process: { pid: ${victim.pid} } }
    args: { to: ["127.0.0.1:${victim.port}"], latency: 50ms }`,
      async leftovers() {
        // A helper told to stop (or orphaned by a SIGKILL) removes its rules and exits within moments.
        const problems = await settled(left);
        const trip = await roundTrips(ns, "127.0.0.1", victim.port, 1);
        if (trip.replies[0] !== "victim:m0") problems.push(`victim unreachable: ${trip.error}`);
        return [...problems, ...(await victimProblems(target))];
      },
      async dispose() {
        killAll(await helpers());
        await target.stop();
        await ns.destroy();
      },
    };
  },
  close: async () => undefined,
};

/**
 * Every scenario the matrix covers; Docker where an engine answers, the network agent where namespaces can
 * be made, CPU stress where cgroups can be made (all three always in CI).
 */
export function scenarios(): Scenario[] {
  return [
    processScenario,
    restartScenario,
    embeddedToxiproxy,
    externalToxiproxy(),
    ...(hasDocker || process.env.CI ? [dockerScenario()] : []),
    kubernetesScenario(),
    stressScenario,
    ...(canUseCgroups || process.env.CI ? [stressCpuScenario] : []),
    ...(canUseNamespaces || process.env.CI ? [networkScenario] : []),
  ];
}

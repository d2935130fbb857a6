import { freePort } from "../../examples/target-app/lib/free-ports.js";
import { readStat } from "../../src/agents/process/proc.js";
import { connect } from "../proxy/helpers.js";
import { type CliProcess, startCli, stopCli } from "../support/cli.js";
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

/** Every scenario the matrix covers. Docker and Kubernetes join here as their agents land. */
export function scenarios(): Scenario[] {
  return [processScenario, embeddedToxiproxy, externalToxiproxy()];
}

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import type { Journal, RunStatus } from "../../src/experiments/journal.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { startCli } from "./cli.js";
import {
  type Answer,
  forwardTo,
  HOSTILE_MODES,
  type HostileMode,
  type HostileServer,
  prometheusAnswer,
  prometheusMatrix,
  startHostile,
} from "./hostile.js";

/**
 * Runs of `chaos run` (the built CLI) against endpoints that misbehave mid-run, each with a real Toxiproxy
 * (the embedded server, in this process) holding the run's fault, so that what is left behind can be read
 * from the server itself. Shared by the test suite and `npm run verify`.
 */
export interface HostileCase {
  name: string;
  endpoint: "prometheus" | "http" | "http stop condition" | "toxiproxy";
  /** How the endpoint misbehaves; "matrix": it answers well-formed JSON of the wrong shape. */
  mode: HostileMode | "matrix";
  exit: number;
  /** The journal's verdict; absent when the run refuses its input before injecting anything (no journal). */
  status?: RunStatus;
  /** How many faults the journal shows applied (each must show its revert too); 0 when none went live. */
  applied: number;
  /** Text the journal's reasons (or, without a journal, the output) must contain. */
  reason: string;
  /** The run must end within this long (the endpoints' deadlines are 300 ms). */
  boundMs: number;
  /** Builds the experiment against the real Toxiproxy and starts the misbehaving endpoint. */
  arrange(real: ToxiproxyServer): Promise<{ yaml: string; hostile: HostileServer }>;
  /** Sends SIGINT once this returns true (polled), instead of waiting for the run to end. */
  interruptWhen?: (hostile: HostileServer) => boolean;
}

export interface HostileOutcome {
  code: number | null;
  ms: number;
  journal?: Journal;
  /** Toxics still on the real Toxiproxy's proxy after the run. */
  toxicsLeft: number;
  /** Entries still in the run's ledger. */
  ledgerLeft: number;
  output: string;
}

const PROXY = "app";
const DEADLINE = "300ms";
export const isAddToxic = (method: string, path: string) => method === "POST" && path.endsWith("/toxics");
export const isDeleteToxic = (method: string, path: string) =>
  method === "DELETE" && path.includes("/toxics/");

/**
 * An experiment: `config` and `body` (steady state, stop conditions), then a latency fault on the real
 * Toxiproxy for `duration`, reached through `url` (the real server or a misbehaving front).
 */
function experiment(opts: {
  url: string;
  duration: string;
  timeout?: string;
  config?: string;
  body?: string;
}) {
  return `configuration:
  toxiproxy: { url: "${opts.url}", timeout: ${opts.timeout ?? DEADLINE} }
${opts.config ?? ""}${opts.body ?? ""}method:
  - name: slow app
    action: toxiproxy.latency
    target: { proxy: ${PROXY} }
    args: { latency: 100ms }
    duration: ${opts.duration}
`;
}

/**
 * An endpoint that answers well (the preflight, the checks before) until the run's fault is live on the real
 * Toxiproxy, then misbehaves in `mode`: the run meets the misbehaviour mid-fault however slowly it started,
 * so that its journal certainly shows the fault applied and reverted.
 */
async function misbehavingOnceLive(
  real: ToxiproxyServer,
  mode: HostileMode,
  healthy: () => Promise<Answer>,
): Promise<HostileServer> {
  const hostile = await startHostile(mode, { healthy });
  hostile.turn("healthy");
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    toxicsOn(real)
      .then(
        (n) => {
          if (n <= 0) return;
          clearInterval(timer);
          hostile.turn(mode);
        },
        () => undefined,
      )
      .finally(() => {
        checking = false;
      });
  }, 20);
  return {
    ...hostile,
    close: () => {
      clearInterval(timer);
      return hostile.close();
    },
  };
}

/** A 20 s fault watched by one Prometheus probe (at `url`) every 100 ms. */
function watchedByPrometheus(real: ToxiproxyServer, url: string, timeout = DEADLINE): string {
  return experiment({
    url: real.url,
    duration: "20s",
    config: `  prometheus: { url: "${url}", timeout: ${timeout}, retries: 0 }\n`,
    body: `steady-state:
  probes:
    - name: error rate
      prometheus: { query: "sum(rate(errors_total[1m]))" }
      tolerance: "< 1"
  during: { every: 100ms }
`,
  });
}

function prometheusCase(mode: HostileMode): HostileCase {
  return {
    name: `Prometheus ${mode} mid-run`,
    endpoint: "prometheus",
    mode,
    exit: 4,
    status: "error",
    applied: 1,
    reason: 'could not judge: "error rate" could not be taken during the method',
    boundMs: 10_000,
    async arrange(real) {
      const hostile = await misbehavingOnceLive(real, mode, async () => prometheusAnswer(0));
      return { yaml: watchedByPrometheus(real, hostile.url), hostile };
    },
  };
}

/** A stop condition on Prometheus, which fails mid-run: the run stops, blind, and cannot judge. */
function prometheusStopCase(mode: HostileMode): HostileCase {
  return {
    name: `a stop condition whose Prometheus ${mode}s`,
    endpoint: "prometheus",
    mode,
    exit: 4,
    status: "error",
    applied: 1,
    reason: 'stopped: could not see: stop condition "error budget" could not be checked',
    boundMs: 10_000,
    async arrange(real) {
      const hostile = await misbehavingOnceLive(real, mode, async () => prometheusAnswer(0));
      const yaml = experiment({
        url: real.url,
        duration: "20s",
        config: `  prometheus: { url: "${hostile.url}", timeout: ${DEADLINE}, retries: 0 }\n`,
        body: `stop-when:
  - name: error budget
    probe: { prometheus: { query: "sum(rate(errors_total[1m]))" } }
    when: "> 0.5"
    every: 100ms
`,
      });
      return { yaml, hostile };
    },
  };
}

/** Prometheus answering an instant query with a range vector: the probe cannot be judged (exit 4). */
const matrixCase: HostileCase = {
  name: "Prometheus answering a matrix to an instant query",
  endpoint: "prometheus",
  mode: "matrix",
  exit: 4,
  status: "error",
  applied: 0,
  reason: 'could not judge: "error rate" could not be taken before the method',
  boundMs: 10_000,
  async arrange(real) {
    const hostile = await startHostile("500", {
      healthy: async () => prometheusMatrix(),
      match: () => false,
    });
    return { yaml: watchedByPrometheus(real, hostile.url), hostile };
  },
};

// A healthy answer carries every field the cases read (an empty one would stop a stop condition by itself).
const appAnswers = async () => ({ status: 200, body: JSON.stringify({ ok: true, p99: 0.1 }) });

function httpCase(mode: HostileMode): HostileCase {
  return {
    name: `the system under test (HTTP) ${mode} mid-run`,
    endpoint: "http",
    mode,
    exit: 1,
    status: "deviated",
    applied: 1,
    reason: "hypothesis deviated during the method: app answers",
    boundMs: 10_000,
    async arrange(real) {
      const hostile = await misbehavingOnceLive(real, mode, appAnswers);
      const yaml = experiment({
        url: real.url,
        duration: "800ms",
        body: `steady-state:
  probes:
    - name: app answers
      http: { url: "${hostile.url}/health", json-path: "$.ok", timeout: ${DEADLINE} }
      tolerance: true
  during: { every: 100ms }
`,
      });
      return { yaml, hostile };
    },
  };
}

function httpStopCase(mode: HostileMode): HostileCase {
  return {
    name: `a stop condition whose service ${mode}s`,
    endpoint: "http stop condition",
    mode,
    exit: 3,
    status: "aborted",
    applied: 1,
    reason: 'stopped: could not see: stop condition "latency budget" got no answer',
    boundMs: 10_000,
    async arrange(real) {
      const hostile = await misbehavingOnceLive(real, mode, appAnswers);
      const yaml = experiment({
        url: real.url,
        duration: "20s",
        body: `stop-when:
  - name: latency budget
    probe: { http: { url: "${hostile.url}/stats", json-path: "$.p99", timeout: ${DEADLINE} } }
    when: "> 0.5"
    every: 100ms
`,
      });
      return { yaml, hostile };
    },
  };
}

/**
 * A front for the real Toxiproxy that misbehaves on the requests `match` selects; with `forwardFirst` (the
 * default) only after passing them on, so that they take effect and only their answer is lost.
 */
export function front(
  real: ToxiproxyServer,
  mode: HostileMode,
  match: (m: string, p: string) => boolean,
  forwardFirst = true,
) {
  return startHostile(mode, {
    healthy: (method, path, body) => forwardTo(real.url, method, path, body),
    match,
    forwardFirst,
  });
}

function toxiproxyCase(mode: HostileMode): HostileCase {
  return {
    name: `Toxiproxy ${mode} while adding a toxic`,
    endpoint: "toxiproxy",
    mode,
    exit: 4,
    status: "error",
    applied: 0,
    reason: 'step "slow app" failed',
    boundMs: 10_000,
    async arrange(real) {
      // The toxic lands on the real server, but its answer is lost: the rollback must still remove it.
      const hostile = await front(real, mode, isAddToxic);
      return { yaml: experiment({ url: hostile.url, duration: "20s" }), hostile };
    },
  };
}

/** Every case: each misbehaviour against Prometheus, the system under test and Toxiproxy, and the extremes. */
export function hostileCases(): HostileCase[] {
  return [
    ...[...HOSTILE_MODES, "refuse" as const].map(prometheusCase),
    matrixCase,
    ...[...HOSTILE_MODES, "refuse" as const].map(httpCase),
    ...(["hang", "reset", "drip"] as const).map(httpStopCase),
    ...(["hang", "500"] as const).map(prometheusStopCase),
    ...HOSTILE_MODES.map(toxiproxyCase),
    {
      name: "Toxiproxy that never answers from the start",
      endpoint: "toxiproxy",
      mode: "hang",
      exit: 4,
      status: "error",
      applied: 0,
      reason: "unreachable: no answer within 300ms",
      boundMs: 15_000,
      async arrange() {
        const hostile = await startHostile("hang", { healthy: appAnswers });
        return { yaml: experiment({ url: hostile.url, duration: "20s" }), hostile };
      },
    },
    {
      name: "Ctrl-C while a Toxiproxy call hangs",
      endpoint: "toxiproxy",
      mode: "hang",
      exit: 3,
      status: "aborted",
      applied: 0,
      reason: "received SIGINT",
      boundMs: 10_000,
      async arrange(real) {
        const hostile = await front(real, "hang", isAddToxic);
        // Only the signal can end the hung call: its own deadline is far away.
        return { yaml: experiment({ url: hostile.url, duration: "20s", timeout: "60s" }), hostile };
      },
      interruptWhen: (hostile) => hostile.seen.some((r) => isAddToxic(r.split(" ")[0]!, r.split(" ")[1]!)),
    },
    {
      name: "Ctrl-C while Prometheus hangs before anything is injected",
      endpoint: "prometheus",
      mode: "hang",
      exit: 3,
      applied: 0,
      reason: "received SIGINT: nothing was injected",
      boundMs: 10_000,
      async arrange(real) {
        const hostile = await startHostile("hang", { healthy: async () => prometheusAnswer(0) });
        return { yaml: watchedByPrometheus(real, hostile.url, "60s"), hostile };
      },
      interruptWhen: (hostile) => hostile.seen.length > 0,
    },
  ];
}

/** What a case's outcome got wrong, as the test suite asserts it; empty when the run did all it should. */
export function hostileProblems(c: HostileCase, o: HostileOutcome): string[] {
  const problems: string[] = [];
  if (o.code !== c.exit) problems.push(`exit ${o.code}, not ${c.exit}`);
  if (o.ms > c.boundMs) problems.push(`took ${o.ms} ms, over ${c.boundMs} ms`);
  if (c.status) {
    if (o.journal?.status !== c.status)
      problems.push(`verdict ${o.journal?.status ?? "none"}, not ${c.status}`);
    if (!o.journal?.reasons.join("\n").includes(c.reason)) problems.push(`no reason "${c.reason}"`);
    const applied = o.journal?.faults.filter((f) => f.appliedAt) ?? [];
    if (applied.length !== c.applied) problems.push(`${applied.length} faults live, not ${c.applied}`);
    if (applied.some((f) => !f.revertedAt)) problems.push("a live fault has no revert in the journal");
  } else if (!o.output.includes(c.reason)) problems.push(`does not say "${c.reason}"`);
  if (/\n\s+at /.test(o.output)) problems.push("printed a stack trace");
  if (o.toxicsLeft !== 0) problems.push(`${o.toxicsLeft} toxics left`);
  if (o.ledgerLeft !== 0) problems.push(`${o.ledgerLeft} ledger entries left`);
  return problems;
}

/** The toxics on the real server's proxy; -1 when the proxy is gone. */
export async function toxicsOn(real: ToxiproxyServer): Promise<number> {
  const res = await fetch(`${real.url}/proxies/${PROXY}/toxics`, { signal: AbortSignal.timeout(5000) });
  return res.ok ? ((await res.json()) as unknown[]).length : -1;
}

/** A real Toxiproxy with the proxy the faults go to. */
export async function realToxiproxy(): Promise<ToxiproxyServer> {
  const listen = `127.0.0.1:${await freePort()}`;
  return startToxiproxyServer({ port: 0, proxies: [{ name: PROXY, listen, upstream: "127.0.0.1:9" }] });
}

/** Files in a ledger folder. */
export function ledgerEntries(dir: string): number {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).length : 0;
}

/**
 * Runs one case through the built CLI in a fresh folder, with a fresh real Toxiproxy, and reports what the
 * run answered, how long it took and what it left behind.
 */
export async function runHostileCase(c: HostileCase): Promise<HostileOutcome> {
  const dir = await mkdtemp(join(tmpdir(), "chaos-hostile-"));
  const real = await realToxiproxy();
  const { yaml, hostile } = await c.arrange(real);
  try {
    const file = join(dir, "experiment.yaml");
    await writeFile(file, `version: 1\ntitle: ${c.name}\n${yaml}`);
    const ledger = join(dir, "ledger");
    const journal = join(dir, "journal.json");
    const args = ["run", file, "--ledger", ledger, "--journal", journal, "--no-reports"];
    const started = Date.now();
    const cli = startCli(args, { timeoutMs: c.boundMs + 20_000 });
    if (c.interruptWhen) {
      while (!c.interruptWhen(hostile) && cli.child.exitCode === null) await sleep(50);
      cli.child.kill("SIGINT");
    }
    const r = await cli.result;
    return {
      code: r.code,
      ms: Date.now() - started,
      journal: existsSync(journal) ? (JSON.parse(readFileSync(journal, "utf8")) as Journal) : undefined,
      toxicsLeft: await toxicsOn(real),
      ledgerLeft: ledgerEntries(ledger),
      output: r.stdout + r.stderr,
    };
  } finally {
    await hostile.close();
    await real.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

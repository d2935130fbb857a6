import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Logger, pino } from "pino";
import { type ProxyConfig, startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { type CpuLimit, makeCpuLimit } from "./cpu-limit.js";
import { freePorts } from "./lib/free-ports.js";
import { fragileList, type Practice, parseFragile } from "./lib/practices.js";
import { waitForHealthy } from "./lib/wait.js";
import { makeServiceNetns, type ServiceNetns } from "./netns.js";
import { Supervisor } from "./supervisor.js";

export type { ProxyConfig };

export const SERVICE_NAMES = ["web", "orders", "payments", "gateway", "loadgen"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** A proxy between two services: faults injected on it hit the link `from` → `to`. */
export interface StackProxy extends ProxyConfig {
  from: ServiceName;
  to: ServiceName;
}

export interface StackOptions {
  /**
   * Fixed ports: web base+0, orders +1, payments +2, gateway +3, loadgen +4, Toxiproxy API +10, proxies
   * web-orders +11, orders-payments +12, payments-gateway +13; with paymentsNetns the database stand-in +5. Absent = free ports picked at random.
   */
  basePort?: number;
  /** Practices to switch off: "timeouts", "retries", "breaker", "idempotency" or "all". */
  fragile?: string[];
  /** Where pid files and logs go; absent = a new temporary directory, removed by stop(). */
  runDir?: string;
  /** Load against web; false = no load generator. Default: 20 requests per second, until stopped. */
  load?: { rate: number; durationS?: number } | false;
  logger?: Logger;
  /**
   * Runs payments in a cgroup of its own with this CPU quota, in cores (0.2 = a fifth of one core), as a
   * container with a CPU limit would; needs root. Absent = no limit.
   */
  paymentsCpu?: number;
  /**
   * Runs payments in a network namespace of its own, joined to the stack's by a veth pair on 10.213.N.0/30
   * (N = `subnet`, default 0: the stack's side .1, payments .2), with a database stand-in (db, port base+5)
   * it records each payment in; needs root and iproute2. The network agent can then fault payments' own
   * traffic. Absent = payments on 127.0.0.1 with no database.
   */
  paymentsNetns?: { subnet?: number };
}

/** Payments in its own network namespace (StackOptions.paymentsNetns). */
export interface PaymentsNetns {
  /** The namespace's name (`ip netns`). */
  name: string;
  /** payments' address inside it. */
  paymentsAddress: string;
  /** The stack's side of the veth pair. */
  hostAddress: string;
  /** host:port payments calls the gateway at (the payments-gateway proxy, on the stack's side). */
  gatewayPeer: string;
  /** host:port of the database stand-in, on the stack's side. */
  dbPeer: string;
  dbUrl: string;
}

export interface Stack {
  /** Each service's own address (not through a proxy). */
  urls: Record<ServiceName, string>;
  /** host:port of every /metrics endpoint, for Prometheus: the five services, then the Toxiproxy API. */
  metricsTargets: string[];
  /** The embedded Toxiproxy's HTTP API. */
  toxiproxyUrl: string;
  proxies: StackProxy[];
  pidFiles: Record<ServiceName, string>;
  runDir: string;
  /** The practices switched off. */
  fragile: Practice[];
  /** Set when payments runs in a network namespace of its own. */
  paymentsNetns?: PaymentsNetns;
  /** Stops every process and server the stack started. Never throws. */
  stop(): Promise<void>;
}

const LINKS: ReadonlyArray<{ from: ServiceName; to: ServiceName; env: string }> = [
  { from: "web", to: "orders", env: "ORDERS_URL" },
  { from: "orders", to: "payments", env: "PAYMENTS_URL" },
  { from: "payments", to: "gateway", env: "GATEWAY_URL" },
];

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 20_000;

/**
 * Starts the sample app: the embedded Toxiproxy in this process with one proxy per link, and each service
 * as a supervised child process whose upstream URL points at the proxy of its link. Resolves once every
 * service answers /healthz through its proxy (and the load generator, started last, answers too).
 * @throws Error for an unknown practice, missing compiled services (run `npm run build`), a port in use, or
 * a service not healthy within 20 s; whatever was started is stopped first.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const practices = parseFragile(opts.fragile ?? []);
  const fragile = fragileList(practices);
  const log = opts.logger ?? pino({ level: "silent" });
  const ownRunDir = opts.runDir === undefined;
  const runDir = resolve(opts.runDir ?? mkdtempSync(join(tmpdir(), "chaoskit-target-app-")));
  mkdirSync(runDir, { recursive: true });
  const ports = await allocatePorts(opts.basePort);
  let netns: ServiceNetns | undefined;
  if (opts.paymentsNetns) netns = await makeServiceNetns("payments", opts.paymentsNetns.subnet ?? 0);
  // Payments' address, and where the services it calls listen: inside its namespace and on the stack's
  // side of the veth pair when it has one.
  const hostOf = (name: ServiceName) => (name === "payments" && netns ? netns.serviceAddress : HOST);
  const listenOf = (from: ServiceName) => (from === "payments" && netns ? netns.hostAddress : HOST);
  const urls = Object.fromEntries(
    SERVICE_NAMES.map((name) => [name, `http://${hostOf(name)}:${ports[name]}`]),
  ) as Record<ServiceName, string>;
  const proxies: StackProxy[] = LINKS.map((link, i) => ({
    name: `${link.from}-${link.to}`,
    listen: `${listenOf(link.from)}:${ports.proxies[i]}`,
    upstream: `${hostOf(link.to)}:${ports[link.to]}`,
    enabled: true,
    from: link.from,
    to: link.to,
  }));
  const dbUrl = netns ? `http://${netns.hostAddress}:${ports.db}` : undefined;

  const supervisor = new Supervisor({ runDir, log });
  let toxiproxy: ToxiproxyServer | undefined;
  let paymentsLimit: CpuLimit | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await supervisor.stop();
    await paymentsLimit?.remove();
    await netns?.remove();
    await toxiproxy?.close();
    if (ownRunDir) rmSync(runDir, { recursive: true, force: true });
    log.info("stack stopped");
  };

  try {
    toxiproxy = await startToxiproxyServer({
      host: HOST,
      port: ports.toxiproxy,
      proxies: proxies.map(({ name, listen, upstream, enabled }) => ({ name, listen, upstream, enabled })),
      metrics: true,
      logger: log,
    });
    if (opts.paymentsCpu !== undefined) paymentsLimit = await makeCpuLimit("payments", opts.paymentsCpu);
    const baseEnv = childEnv(fragile);
    const upstreamEnv = (name: ServiceName): Record<string, string> => {
      const link = LINKS.findIndex((l) => l.from === name);
      const entry = LINKS[link];
      return entry ? { [entry.env]: `http://${proxies[link]?.listen}` } : {};
    };
    if (netns) {
      supervisor.start({
        name: "db",
        script: serviceScript("db"),
        env: { ...baseEnv, PORT: String(ports.db), HOST: netns.hostAddress },
      });
    }
    for (const name of ["gateway", "payments", "orders", "web"] as const) {
      const inNetns = name === "payments" && netns;
      supervisor.start({
        name,
        script: serviceScript(name),
        env: {
          ...baseEnv,
          PORT: String(ports[name]),
          ...upstreamEnv(name),
          ...(inNetns ? { HOST: netns!.serviceAddress, DB_URL: dbUrl! } : {}),
        },
        ...(name === "payments" && paymentsLimit ? { cgroup: paymentsLimit } : {}),
        ...(inNetns ? { netns: netns!.path } : {}),
      });
    }
    // Healthy first on their own ports, then through the proxies: the path the traffic takes.
    await waitForHealthy(
      [
        ...(["web", "orders", "payments", "gateway"] as const).map((name) => `${urls[name]}/healthz`),
        ...(dbUrl ? [`${dbUrl}/healthz`] : []),
      ],
      READY_TIMEOUT_MS,
    );
    await waitForHealthy(
      [urls.web, ...proxies.map((p) => `http://${p.listen}`)].map((base) => `${base}/healthz`),
      READY_TIMEOUT_MS,
    );
    const load = opts.load ?? { rate: 20 };
    supervisor.start({
      name: "loadgen",
      script: serviceScript("loadgen"),
      env: {
        ...baseEnv,
        PORT: String(ports.loadgen),
        TARGET_URL: urls.web,
        // Without load the generator still runs (its metrics stay scrapable) but sends nothing.
        RATE: String(load === false ? 1 : load.rate),
        ...(load === false ? { LOAD_DURATION_S: "0.001" } : {}),
        ...(load !== false && load.durationS !== undefined
          ? { LOAD_DURATION_S: String(load.durationS) }
          : {}),
      },
    });
    await waitForHealthy([`${urls.loadgen}/healthz`], READY_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }

  log.info({ urls, toxiproxy: toxiproxy.url, fragile, runDir, netns: netns?.name }, "stack ready");
  return {
    urls,
    metricsTargets: [
      ...SERVICE_NAMES.map((name) => `${hostOf(name)}:${ports[name]}`),
      `${HOST}:${toxiproxy.port}`,
    ],
    toxiproxyUrl: toxiproxy.url,
    proxies,
    pidFiles: Object.fromEntries(SERVICE_NAMES.map((name) => [name, supervisor.pidFile(name)])) as Record<
      ServiceName,
      string
    >,
    runDir,
    fragile,
    ...(netns
      ? {
          paymentsNetns: {
            name: netns.name,
            paymentsAddress: netns.serviceAddress,
            hostAddress: netns.hostAddress,
            gatewayPeer: proxies.find((p) => p.from === "payments")!.listen,
            dbPeer: `${netns.hostAddress}:${ports.db}`,
            dbUrl: dbUrl!,
          },
        }
      : {}),
    stop,
  };
}

type Ports = Record<ServiceName | "toxiproxy" | "db", number> & { proxies: number[] };

async function allocatePorts(basePort: number | undefined): Promise<Ports> {
  const picked = basePort === undefined ? await freePorts(10) : undefined;
  const at = (offset: number, index: number) =>
    basePort !== undefined ? basePort + offset : picked![index]!;
  return {
    web: at(0, 0),
    orders: at(1, 1),
    payments: at(2, 2),
    gateway: at(3, 3),
    loadgen: at(4, 4),
    db: at(5, 9),
    toxiproxy: at(10, 5),
    proxies: [at(11, 6), at(12, 7), at(13, 8)],
  };
}

/** The children get this process's environment minus NODE_OPTIONS (a test runner's loaders are not theirs). */
function childEnv(fragile: Practice[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== "NODE_OPTIONS" && key !== "FRAGILE") env[key] = value;
  }
  env["FRAGILE"] = fragile.join(",");
  return env;
}

/**
 * The compiled entry of a service: next to this file when running compiled, else in the repository's dist/.
 * @throws Error when the services were not compiled.
 */
function serviceScript(name: ServiceName | "db"): string {
  const here = fileURLToPath(new URL(`./services/${name}.js`, import.meta.url));
  if (existsSync(here)) return here;
  const built = fileURLToPath(new URL(`../../dist/examples/target-app/services/${name}.js`, import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`compiled service ${name} not found at ${built}; run \`npm run build\` first`);
}

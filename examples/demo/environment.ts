import { type RunningPrometheus, startPrometheus } from "../target-app/prometheus-server.js";
import { type Stack, startStack } from "../target-app/stack.js";

/** The sample app under load and the Prometheus that scrapes it: what the bundled experiments need. */
export interface TargetEnvironment {
  stack: Stack;
  prometheusUrl: string;
  /** The variables the bundled experiments read (`${env:NAME:-default}`), pointing at this environment. */
  env: Record<"PROMETHEUS_URL" | "TOXIPROXY_URL" | "WEB_URL" | "TARGET_RUN_DIR", string> &
    Partial<Record<"PAYMENTS_GATEWAY_PEER" | "PAYMENTS_DB_PEER", string>>;
  /** Stops what this environment started (never an external Prometheus). Never throws. */
  stop(): Promise<void>;
}

export interface TargetEnvironmentOptions {
  /** Practices switched off; empty = the resilient app. */
  fragile: string[];
  /** Load in requests per second (default 20). */
  rate?: number;
  /** Fixed ports (web = basePort, …); default free ports. */
  basePort?: number;
  /** Where pid files and logs go; default a temporary folder removed by stop(). */
  runDir?: string;
  /** A Prometheus already scraping the stack; default: start one that scrapes it every second. */
  prometheusUrl?: string;
  /** The Prometheus binary to start (see ensurePrometheus). */
  prometheusBinary?: string;
  /** Runs payments under a CPU limit of its own, in cores (see StackOptions.paymentsCpu; needs root). */
  paymentsCpu?: number;
  /** Runs payments in a network namespace of its own, with a database (see StackOptions.paymentsNetns). */
  paymentsNetns?: { subnet?: number };
}

/**
 * Starts the sample app with load, then (unless one is given) a Prometheus scraping it every second.
 * @throws Error when the stack cannot start; ChaosError("agent") when Prometheus cannot. Whatever was
 *   started is stopped first.
 */
export async function startTargetEnvironment(opts: TargetEnvironmentOptions): Promise<TargetEnvironment> {
  const stack = await startStack({
    fragile: opts.fragile,
    load: { rate: opts.rate ?? 20 },
    basePort: opts.basePort,
    runDir: opts.runDir,
    ...(opts.paymentsCpu !== undefined ? { paymentsCpu: opts.paymentsCpu } : {}),
    ...(opts.paymentsNetns ? { paymentsNetns: opts.paymentsNetns } : {}),
  });
  let prometheus: RunningPrometheus | undefined;
  if (opts.prometheusUrl === undefined) {
    try {
      prometheus = await startPrometheus({
        scrapeTargets: stack.metricsTargets,
        scrapeInterval: "1s",
        binary: opts.prometheusBinary,
      });
    } catch (err) {
      await stack.stop();
      throw err;
    }
  }
  const prometheusUrl = prometheus?.url ?? opts.prometheusUrl!;
  return {
    stack,
    prometheusUrl,
    env: {
      PROMETHEUS_URL: prometheusUrl,
      TOXIPROXY_URL: stack.toxiproxyUrl,
      WEB_URL: stack.urls.web,
      TARGET_RUN_DIR: stack.runDir,
      ...(stack.paymentsNetns
        ? {
            PAYMENTS_GATEWAY_PEER: stack.paymentsNetns.gatewayPeer,
            PAYMENTS_DB_PEER: stack.paymentsNetns.dbPeer,
          }
        : {}),
    },
    stop: async () => {
      await stack.stop();
      await prometheus?.stop();
    },
  };
}

/**
 * What is still injected on the Toxiproxy: one line per toxic and per disabled proxy (empty = nothing).
 * @throws Error when the API does not answer.
 */
export async function liveFaults(toxiproxyUrl: string): Promise<string[]> {
  const res = await fetch(`${toxiproxyUrl}/proxies`, { signal: AbortSignal.timeout(3_000) });
  const proxies = (await res.json()) as Record<
    string,
    { enabled: boolean; toxics: Array<{ name: string; type: string }> }
  >;
  return Object.entries(proxies).flatMap(([name, proxy]) => [
    ...(proxy.enabled ? [] : [`${name}: disabled`]),
    ...proxy.toxics.map((t) => `${name}: toxic ${t.name} (${t.type})`),
  ]);
}

import { type Toxiproxy, ToxiproxyError } from "toxiproxy-node-client";
import { sleep } from "../../experiments/clock.js";
import { ChaosError } from "../../experiments/errors.js";
import { startToxiproxyServer } from "../../proxy/server.js";
import { readTlsInput, type TlsSettings } from "../../proxy/tls.js";
import type { AgentContext } from "../agent.js";
import { readConfig, type ToxiproxyConfig } from "./config.js";
import { boundedClient, DEFAULT_CALL_TIMEOUT_MS } from "./http.js";

/** A reachable Toxiproxy and how this run got it. */
export interface Session {
  url: string;
  /** True when the server is the embedded one, living as long as this process. */
  embedded: boolean;
  /** Bound to the caller's abort signal, each call with the configured deadline. */
  client: Toxiproxy;
  config: ToxiproxyConfig;
}

const TRIES = 5;
const FIRST_BACKOFF_MS = 200; // 200+400+800+1600: five tries within about 3 s

/** The HTTP status of a client error, or undefined when nothing answered (refused, reset, DNS). */
export function statusOf(err: unknown): number | undefined {
  if (!(err instanceof ToxiproxyError)) return undefined;
  const m = /status code (\d{3})/.exec(err.message);
  return m ? Number(m[1]) : undefined;
}

function unreachable(url: string, cause: unknown): ChaosError {
  const reason =
    cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
  return new ChaosError("agent", `toxiproxy at ${url} unreachable: ${reason}`, {
    cause,
    hint: "start Toxiproxy (or `chaos proxy`), or omit configuration.toxiproxy.url to use the embedded proxy",
  });
}

/**
 * Checks that Toxiproxy answers, with bounded retries and exponential backoff (5 tries within ~3 s, plus
 * each call's deadline), and returns a client bound to `signal`.
 * @throws ChaosError("agent") "toxiproxy at URL unreachable" when it never answers.
 */
export async function reach(
  url: string,
  opts: { signal?: AbortSignal; tries?: number; timeoutMs?: number } = {},
): Promise<Toxiproxy> {
  const { signal, tries = TRIES, timeoutMs = DEFAULT_CALL_TIMEOUT_MS } = opts;
  const client = boundedClient(url, timeoutMs, signal);
  let last: unknown;
  for (let attempt = 0; attempt < tries; attempt++) {
    if (attempt > 0) await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1), signal);
    if (signal?.aborted) break;
    try {
      await client.getVersion();
      return client;
    } catch (err) {
      last = err;
      if (statusOf(err) !== undefined) break; // something answered, but not Toxiproxy's /version
    }
  }
  throw unreachable(url, last);
}

/** @throws ChaosError("invalid") for settings that contradict each other (ca with insecure, …). */
function tlsSettings(tls: Record<string, unknown>, name: string): TlsSettings {
  try {
    return readTlsInput(tls, name)!;
  } catch (err) {
    throw new ChaosError("invalid", `configuration.toxiproxy: ${(err as Error).message}`);
  }
}

/**
 * The run's Toxiproxy: the configured URL (checked once per run), or the embedded server started on first
 * use with the configured proxies and closed when the run ends.
 * @throws ChaosError("agent") when the URL is unreachable or the embedded server cannot start.
 */
export async function session(ctx: AgentContext): Promise<Session> {
  const config = readConfig(ctx.configuration);
  const client = (url: string) => boundedClient(url, config.timeoutMs, ctx.signal);
  if (config.url) {
    const url = config.url;
    await ctx.resources.use(
      `toxiproxy:${url}`,
      () => reach(url, { signal: ctx.signal, timeoutMs: config.timeoutMs }),
      async () => undefined,
    );
    return { url, embedded: false, client: client(url), config };
  }
  const server = await ctx.resources.use(
    "toxiproxy:embedded",
    () =>
      startToxiproxyServer({
        port: 0,
        proxies: config.proxies.map(({ name, listen, upstream, tls }) => ({
          name,
          listen,
          upstream,
          ...(tls ? { tls: tlsSettings(tls, name) } : {}),
        })),
        logger: ctx.log.child({ component: "embedded-toxiproxy" }),
      }),
    (s) => s.close(),
  );
  return { url: server.url, embedded: true, client: client(server.url), config };
}

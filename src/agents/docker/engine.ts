import { readFile } from "node:fs/promises";
import type Docker from "dockerode";
import { sleep } from "../../experiments/clock.js";
import { ChaosError } from "../../experiments/errors.js";
import type { EngineSpec } from "./config.js";

/**
 * A reachable Docker engine. Every call goes through `call()`, which bounds it by the engine's deadline and
 * the caller's abort signal: a hung engine or a Ctrl-C never leaves a call waiting.
 */
export class Engine {
  constructor(
    readonly docker: Docker,
    readonly spec: EngineSpec,
    /** The engine's own ID (from /info), stable whatever address reaches it: the lock key's middle part. */
    readonly id: string,
  ) {}

  /**
   * Runs one API call with the engine's deadline (plus `extraMs` for calls that wait on purpose, like a
   * stop's grace period) and `signal`.
   * @throws the client's error (see `statusOf`), or ChaosError("agent") when the deadline passed or the
   * signal aborted the call.
   */
  call<T>(
    what: string,
    signal: AbortSignal,
    fn: (abortSignal: AbortSignal) => Promise<T>,
    extraMs = 0,
  ): Promise<T> {
    return bounded({ ...this.spec, timeoutMs: this.spec.timeoutMs + extraMs }, what, signal, fn);
  }
}

/** The HTTP status of an engine answer (404 no such container, 304 already so, 409 conflict), if any. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** The engine's own message in an error answer, else the error's message. */
export function reasonOf(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (typeof json?.message === "string") return json.message;
  return err instanceof Error ? err.message : String(err);
}

function socketOf(host: string): string | undefined {
  return host.startsWith("unix://") ? host.slice("unix://".length) : undefined;
}

/** Where the engine is, for messages: "the socket /run/docker.sock" or "tcp://host:port". */
export function describeHost(host: string): string {
  const socket = socketOf(host);
  return socket ? `the socket ${socket}` : host;
}

async function bounded<T>(
  spec: EngineSpec,
  what: string,
  signal: AbortSignal,
  fn: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = AbortSignal.timeout(spec.timeoutMs);
  const both = AbortSignal.any([signal, deadline]);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      const message = deadline.aborted
        ? `${what}: the docker engine at ${describeHost(spec.host)} did not answer within ${spec.timeoutMs}ms`
        : `${what}: interrupted`;
      reject(
        new ChaosError("agent", message, {
          hint: deadline.aborted
            ? "is dockerd hung? raise configuration.docker.timeout if it is slow"
            : undefined,
        }),
      );
    };
    if (both.aborted) onAbort();
    else both.addEventListener("abort", onAbort, { once: true });
  });
  const work = fn(both);
  work.catch(() => undefined); // settled late, after the deadline: nobody waits for it any more
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) both.removeEventListener("abort", onAbort);
  }
}

async function readTls(spec: EngineSpec): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  for (const part of ["ca", "cert", "key"] as const) {
    const file = spec.tls?.[part];
    if (!file) continue;
    try {
      out[part] = await readFile(file);
    } catch (err) {
      throw new ChaosError(
        "agent",
        `cannot read configuration.docker.tls.${part} ${file}: ${reasonOf(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  return out;
}

/** A client for the spec, without contacting the engine. @throws ChaosError("agent") for unreadable TLS files. */
export async function client(spec: EngineSpec): Promise<Docker> {
  // Loaded on first use: `chaos validate` and runs without docker steps never pay for dockerode.
  const { default: Docker } = await import("dockerode");
  const socketPath = socketOf(spec.host);
  if (socketPath) return new Docker({ socketPath });
  const url = new URL(spec.host.replace(/^tcp:/, "http:"));
  const tls = await readTls(spec);
  const secure = tls.cert !== undefined || tls.ca !== undefined;
  return new Docker({
    host: url.hostname,
    port: Number(url.port || (secure ? 2376 : 2375)),
    protocol: secure ? "https" : "http",
    ...tls,
  });
}

const TRIES = 3;
const FIRST_BACKOFF_MS = 250;

function unreachable(spec: EngineSpec, cause: unknown): ChaosError {
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  const where = describeHost(spec.host);
  if (code === "EACCES" || code === "EPERM") {
    return new ChaosError("agent", `permission denied on ${where}`, {
      cause,
      hint: "run chaos as root or as a member of the docker group, or set DOCKER_HOST to an engine you may use",
    });
  }
  const reason =
    code === "ENOENT" ? "no such socket" : code === "ECONNREFUSED" ? "connection refused" : reasonOf(cause);
  return new ChaosError("agent", `docker engine at ${where} unreachable: ${reason}`, {
    cause,
    hint: "start dockerd (scripts/dockerd.sh start prints a DOCKER_HOST), or set DOCKER_HOST or configuration.docker.host",
  });
}

/**
 * Reaches the engine: asks for /info, up to 3 times with backoff, each try bounded by the spec's deadline.
 * @throws ChaosError("agent") naming the socket (or address) when the engine is unreachable, refuses this
 * user ("permission denied"), or never answers.
 */
export async function connect(spec: EngineSpec, signal: AbortSignal): Promise<Engine> {
  const docker = await client(spec);
  let last: unknown;
  for (let attempt = 0; attempt < TRIES; attempt++) {
    if (attempt > 0) await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1), signal);
    if (signal.aborted) break;
    try {
      // dockerode's types omit the options its info() takes.
      const withOptions = docker as unknown as {
        info(o: { abortSignal: AbortSignal }): Promise<{ ID?: string }>;
      };
      const info = await bounded(spec, "docker info", signal, (abortSignal) =>
        withOptions.info({ abortSignal }),
      );
      return new Engine(docker, spec, info.ID || spec.host);
    } catch (err) {
      last = err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM") break; // retrying will not grant the permission
      if (statusOf(err) !== undefined) break; // something answered, but not as an engine does
    }
  }
  if (last instanceof ChaosError || last === undefined) {
    const why = signal.aborted ? "interrupted" : `no answer within ${spec.timeoutMs}ms, ${TRIES} tries`;
    throw new ChaosError("agent", `docker engine at ${describeHost(spec.host)} unreachable: ${why}`, {
      cause: last,
      hint: "is dockerd hung? check `docker info`, or raise configuration.docker.timeout if it is slow",
    });
  }
  throw unreachable(spec, last);
}

import { ChaosError } from "../../experiments/errors.js";
import type { JsonSchema } from "../agent.js";

/**
 * Where the Docker engine is. It is written into every revert, so that `chaos rollback` in a fresh process
 * (which has no experiment configuration) reaches the same engine. TLS material is given as file paths,
 * never inline, so no key ever lands in the ledger.
 */
export interface EngineSpec {
  /** `unix:///path/docker.sock` or `tcp://host:port`. */
  host: string;
  tls?: { ca?: string; cert?: string; key?: string };
  /** Deadline of one call to the engine, in milliseconds. */
  timeoutMs: number;
}

export const DEFAULT_HOST = "unix:///var/run/docker.sock";
export const DEFAULT_TIMEOUT_MS = 5_000;

/** JSON Schema of `configuration.docker` in an experiment. */
export const configurationSchema: JsonSchema = {
  type: "object",
  description: "Which Docker engine to use; default $DOCKER_HOST, else /var/run/docker.sock.",
  additionalProperties: false,
  properties: {
    host: {
      type: "string",
      pattern: "^(unix|tcp)://",
      description: "unix:///path/to/docker.sock or tcp://host:port",
    },
    tls: {
      type: "object",
      additionalProperties: false,
      description: "files for a TLS-protected tcp:// engine (paths, never the keys themselves)",
      properties: {
        ca: { type: "string", minLength: 1 },
        cert: { type: "string", minLength: 1 },
        key: { type: "string", minLength: 1 },
      },
    },
    timeout: {
      type: "integer",
      minimum: 100,
      maximum: 300_000,
      description: "deadline of one call to the engine, in milliseconds (default 5000)",
    },
  },
};

/**
 * The engine an experiment uses: `configuration.docker`, else `DOCKER_HOST`, else the default socket.
 * @throws ChaosError("invalid") when the configuration or DOCKER_HOST names an unsupported address.
 */
export function readEngineSpec(
  configuration: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): EngineSpec {
  const raw = (configuration.docker ?? {}) as {
    host?: unknown;
    tls?: EngineSpec["tls"];
    timeout?: unknown;
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ChaosError("invalid", "configuration.docker must be an object", {
      hint: "give it a host, tls and/or timeout",
    });
  }
  const fromEnv = env.DOCKER_HOST?.trim() || undefined;
  const host = typeof raw.host === "string" ? raw.host : (fromEnv ?? DEFAULT_HOST);
  if (!/^(unix|tcp):\/\/./.test(host)) {
    const where = typeof raw.host === "string" ? "configuration.docker.host" : "DOCKER_HOST";
    throw new ChaosError("invalid", `${where} ${JSON.stringify(host)} is not a unix:// or tcp:// address`, {
      hint: "e.g. unix:///var/run/docker.sock or tcp://127.0.0.1:2376",
    });
  }
  const timeoutMs = typeof raw.timeout === "number" ? raw.timeout : DEFAULT_TIMEOUT_MS;
  return { host, ...(raw.tls ? { tls: { ...raw.tls } } : {}), timeoutMs };
}

/** Reads an engine spec back from a ledger entry. @throws ChaosError("agent") when it is malformed. */
export function readRecordedSpec(value: unknown): EngineSpec {
  const spec = value as Partial<EngineSpec> | undefined;
  if (typeof spec?.host !== "string" || typeof spec.timeoutMs !== "number") {
    throw new ChaosError("agent", "malformed docker revert entry: no engine { host, timeoutMs }", {
      hint: "the ledger entry was not written by the docker agent",
    });
  }
  return { host: spec.host, ...(spec.tls ? { tls: spec.tls } : {}), timeoutMs: spec.timeoutMs };
}

import { durationOf, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";

export const DEFAULT_URL = "http://127.0.0.1:9090";
export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_RETRIES = 3;

/** JSON Schema of `configuration.prometheus` in an experiment. */
export const configurationSchema = {
  type: "object",
  description: "Where the Prometheus HTTP API is and how to reach it.",
  properties: {
    url: {
      type: "string",
      pattern: "^([Hh][Tt][Tt][Pp][Ss]?://|\\$\\{secrets\\.)",
      description: `base URL of the Prometheus server; default: $PROMETHEUS_URL, else ${DEFAULT_URL}`,
    },
    auth: {
      oneOf: [
        {
          type: "object",
          properties: { bearer: { type: "string", minLength: 1 } },
          required: ["bearer"],
          additionalProperties: false,
        },
        {
          type: "object",
          properties: {
            basic: {
              type: "object",
              properties: { username: { type: "string" }, password: { type: "string" } },
              required: ["username", "password"],
              additionalProperties: false,
            },
          },
          required: ["basic"],
          additionalProperties: false,
        },
      ],
    },
    ca: { type: "string", description: "path of a PEM file with the CA certificates to trust for https" },
    timeout: durationOf("timeout", "per-query timeout (default 5s)"),
    retries: {
      type: "integer",
      minimum: 0,
      maximum: 10,
      description: "retries on network errors and 5xx answers (default 3)",
    },
  },
  additionalProperties: false,
} as const;

export type PrometheusAuth = { bearer: string } | { basic: { username: string; password: string } };

export interface PrometheusConfig {
  url: string;
  auth?: PrometheusAuth;
  /** Path of a PEM file. */
  ca?: string;
  timeoutMs: number;
  retries: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(field: string, what: string): ChaosError {
  return new ChaosError("invalid", `configuration.prometheus.${field} ${what}`);
}

function readAuth(raw: unknown): PrometheusAuth | undefined {
  if (raw === undefined) return undefined;
  if (isRecord(raw) && typeof raw.bearer === "string" && raw.bearer !== "") return { bearer: raw.bearer };
  if (isRecord(raw) && isRecord(raw.basic)) {
    const { username, password } = raw.basic;
    if (typeof username === "string" && typeof password === "string")
      return { basic: { username, password } };
  }
  // Never echo the value: it holds credentials.
  throw invalid("auth", "must be { bearer: TOKEN } or { basic: { username, password } }");
}

/**
 * Reads `configuration.prometheus` (already interpolated) with its defaults.
 * @throws ChaosError("invalid") when a field has the wrong shape.
 */
export function resolveConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): PrometheusConfig {
  if (raw !== undefined && !isRecord(raw)) {
    throw new ChaosError("invalid", "configuration.prometheus must be an object");
  }
  const section: Record<string, unknown> = isRecord(raw) ? raw : {};
  const url = section.url ?? env.PROMETHEUS_URL ?? DEFAULT_URL;
  if (typeof url !== "string" || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw invalid("url", "must be an http:// or https:// URL");
  }
  if (section.ca !== undefined && typeof section.ca !== "string") throw invalid("ca", "must be a file path");
  const retries = section.retries ?? DEFAULT_RETRIES;
  if (typeof retries !== "number" || !Number.isInteger(retries) || retries < 0) {
    throw invalid("retries", "must be a non-negative integer");
  }
  const timeoutMs =
    section.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(section.timeout, "timeout");
  return { url, auth: readAuth(section.auth), ca: section.ca, timeoutMs, retries };
}

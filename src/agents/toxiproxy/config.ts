import { durationSchema, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import { DEFAULT_CALL_TIMEOUT_MS } from "./http.js";

/** A proxy the experiment relies on; `from`/`to` name the services it joins (for `partition`). */
export interface ProxySpec {
  name: string;
  listen: string;
  upstream: string;
  from?: string;
  to?: string;
  /** TLS termination (file paths), as in a `chaos proxy` proxy definition. */
  tls?: Record<string, unknown>;
}

export interface ToxiproxyConfig {
  /** Absent: the embedded proxy is started in-process for the run. */
  url?: string;
  proxies: ProxySpec[];
  /** Deadline of one API call. */
  timeoutMs: number;
}

/** JSON Schema of `configuration.toxiproxy` in an experiment. */
export const configurationSchema = {
  type: "object",
  description: "Where Toxiproxy is, and the proxies the experiment relies on.",
  properties: {
    url: {
      type: "string",
      pattern: "^https?://",
      description: "Toxiproxy's HTTP API; omit it to start the embedded proxy in-process for the run",
    },
    timeout: { ...durationSchema, description: "deadline of one API call (default 10s)" },
    proxies: {
      type: "array",
      description: "created if missing (and removed afterwards only when the run created them)",
      items: {
        type: "object",
        properties: {
          name: { type: "string", minLength: 1 },
          listen: { type: "string", minLength: 1, description: "host:port the proxy listens on" },
          upstream: { type: "string", minLength: 1, description: "host:port it forwards to" },
          from: { type: "string", description: "the service calling through this proxy" },
          to: { type: "string", description: "the service behind it" },
          tls: {
            type: "object",
            description:
              "terminate TLS from clients with cert and key (file paths), so HTTP toxics act on HTTPS; without it TLS passes through untouched",
            properties: {
              cert: { type: "string", minLength: 1, description: "PEM certificate presented to clients" },
              key: { type: "string", minLength: 1, description: "its unencrypted PEM private key" },
              upstream_tls: { type: "boolean", description: "connect upstream over TLS (default true)" },
              ca: { type: "string", minLength: 1, description: "PEM CA the upstream is verified against" },
              insecure: { type: "boolean", description: "do not verify the upstream's certificate" },
              server_name: { type: "string", minLength: 1, description: "SNI and name checked upstream" },
            },
            required: ["cert", "key"],
            additionalProperties: false,
          },
        },
        required: ["name", "listen", "upstream"],
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
} as const;

/**
 * Reads `configuration.toxiproxy` (already validated by the schema, but a revert may run with none).
 * @throws ChaosError("invalid") when it is present but not an object.
 */
export function readConfig(configuration: Record<string, unknown>): ToxiproxyConfig {
  const raw = configuration.toxiproxy;
  if (raw === undefined || raw === null) return { proxies: [], timeoutMs: DEFAULT_CALL_TIMEOUT_MS };
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ChaosError("invalid", "configuration.toxiproxy must be an object", {
      hint: "give it a url and/or a list of proxies",
    });
  }
  const { url, proxies, timeout } = raw as { url?: unknown; proxies?: unknown; timeout?: unknown };
  return {
    url: typeof url === "string" ? url.replace(/\/+$/, "") : undefined,
    proxies: Array.isArray(proxies) ? (proxies as ProxySpec[]) : [],
    timeoutMs: timeout === undefined ? DEFAULT_CALL_TIMEOUT_MS : parseDuration(timeout),
  };
}

import { shownUrl } from "./metrics-config.js";

/**
 * Where a run's traces go, read the standard OpenTelemetry way. Tracing is off unless an OTLP endpoint is
 * given, so an unconfigured run never loads the SDK.
 */
export interface TraceConfig {
  /** The traces URL as given in the settings; absent: the exporter reads the OTEL_EXPORTER_OTLP_* variables. */
  url?: string;
  /** Headers from the settings (the exporter adds OTEL_EXPORTER_OTLP_HEADERS itself). */
  headers?: Record<string, string>;
  /** Where the spans go, without credentials: for the journal's note when some could not be sent. */
  shownTarget: string;
  /** How long one export, and the final flush, may take. */
  timeoutMs: number;
  /** `TRACEPARENT` / `TRACESTATE` of the job that started the run: the run becomes its child. */
  parent?: { traceparent: string; tracestate?: string };
}

/** Traces as written in the settings file or the experiment (`traces: { endpoint, headers }`). */
export interface TraceSettings {
  endpoint?: string;
  headers?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The tracing of one run, or undefined when nothing asks for it (or OTEL_SDK_DISABLED says not to). */
export function traceConfig(env: NodeJS.ProcessEnv, settings?: TraceSettings): TraceConfig | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none") return undefined;
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = settings?.endpoint ? tracesUrl(settings.endpoint) : undefined;
  const target = url ?? (specific || (general ? tracesUrl(general) : undefined));
  if (!target) return undefined;
  const timeout = Number(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT);
  return {
    ...(url ? { url } : {}),
    ...(settings?.headers ? { headers: settings.headers } : {}),
    shownTarget: shownUrl(target),
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_MS,
    ...(env.TRACEPARENT
      ? {
          parent: { traceparent: env.TRACEPARENT, ...(env.TRACESTATE ? { tracestate: env.TRACESTATE } : {}) },
        }
      : {}),
  };
}

/** A base endpoint gains `/v1/traces`, as OTEL_EXPORTER_OTLP_ENDPOINT does; a full traces URL is kept. */
function tracesUrl(endpoint: string): string {
  if (/\/v1\/traces\/?$/.test(endpoint)) return endpoint;
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}

import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingHttpHeaders } from "node:http";
import type { Context, Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";

/**
 * The services' traces, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set (without it no SDK is loaded and no
 * exporter exists): each request a service serves is a server span, child of the request's `traceparent`
 * (a chaos probe's check, or the service that called it), and every call it makes while serving it carries
 * that span's `traceparent` on. Spans leave in batches over OTLP/HTTP, in the background, from a bounded
 * queue (full = dropped): a slow or absent collector never holds up a request.
 */
interface Tracing {
  tracer: Tracer;
  api: typeof import("@opentelemetry/api");
  propagator: import("@opentelemetry/core").W3CTraceContextPropagator;
  flush(): Promise<void>;
}

let tracing: Tracing | undefined;
/** The context of the request being served, for the calls made while serving it. */
const current = new AsyncLocalStorage<Context>();

/** Starts this process's tracing as `service` when OTEL_EXPORTER_OTLP_ENDPOINT is set. Never throws. */
export async function startTracing(service: string, log: Logger): Promise<void> {
  if (!process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]) return;
  try {
    const [api, core, resources, sdk, otlp] = await Promise.all([
      import("@opentelemetry/api"),
      import("@opentelemetry/core"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/sdk-trace-base"),
      import("@opentelemetry/exporter-trace-otlp-http"),
    ]);
    // OTEL_RESOURCE_ATTRIBUTES add to the resource; the service's own name wins over OTEL_SERVICE_NAME,
    // which every service of the stack inherits alike.
    const resource = resources
      .detectResources({ detectors: [resources.envDetector] })
      .merge(
        resources.resourceFromAttributes({ "service.name": service, "service.namespace": "chaoskit-demo" }),
      );
    const provider = new sdk.BasicTracerProvider({
      resource,
      spanProcessors: [
        new sdk.BatchSpanProcessor(new otlp.OTLPTraceExporter({ timeoutMillis: 2_000 }), {
          maxQueueSize: 2_048,
          scheduledDelayMillis: 200,
          exportTimeoutMillis: 2_000,
        }),
      ],
    });
    tracing = {
      tracer: provider.getTracer("chaoskit-target-app"),
      api,
      propagator: new core.W3CTraceContextPropagator(),
      flush: () => provider.forceFlush(),
    };
    log.info({ endpoint: process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] }, "exporting traces");
  } catch (error) {
    log.warn({ error: String(error) }, "traces not exported");
  }
}

/**
 * Serves one request inside a server span named `METHOD route`, child of the request's `traceparent`;
 * without tracing, just serves it. The span ends with the status `serve` resolves to.
 */
export function withServerSpan(
  method: string,
  route: string,
  headers: IncomingHttpHeaders,
  serve: () => Promise<number>,
): Promise<number> {
  if (!tracing) return serve();
  const { api, tracer, propagator } = tracing;
  const parent = propagator.extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter);
  const span = tracer.startSpan(
    `${method} ${route}`,
    {
      kind: api.SpanKind.SERVER,
      attributes: { "http.request.method": method, "http.route": route },
    },
    parent,
  );
  return current.run(api.trace.setSpan(parent, span), serve).then(
    (status) => {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
      span.end();
      return status;
    },
    (error: unknown) => {
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: String(error) });
      span.end();
      throw error;
    },
  );
}

/** Adds the `traceparent` of the request being served to an outgoing call's headers (its own one wins). */
export function propagate(headers: Record<string, string>): void {
  const context = current.getStore();
  if (!tracing || !context) return;
  const carrier: Record<string, string> = {};
  tracing.propagator.inject(context, carrier, tracing.api.defaultTextMapSetter);
  for (const [key, value] of Object.entries(carrier)) if (!(key in headers)) headers[key] = value;
}

/** Sends the spans still queued, waiting at most `ms`. Never throws. */
export async function flushTracing(ms: number): Promise<void> {
  if (!tracing) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    tracing.flush().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

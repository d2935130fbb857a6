import type { Experiment } from "../experiments/model.js";
import type { RunTrace } from "./run-trace.js";
import type { TraceConfig } from "./trace-config.js";

/** A run's tracing, started: its span tree and the way to send what is left when the run ends. */
export interface RunTraces {
  trace: RunTrace;
  /** W3C trace context headers that make a request a child of `span` (the run when absent). */
  headersFor(context?: import("@opentelemetry/api").Context): Record<string, string>;
  /**
   * Sends the spans still queued, within the export deadline, and stops the exporter.
   * @returns what could not be sent, for the journal; undefined when everything went.
   */
  end(): Promise<string | undefined>;
}

/**
 * Starts the tracing of one run. The SDK is loaded here, on first use, so a run (or a `chaos validate`)
 * that asks for no traces never pays for it. Spans leave in batches, in the background: a slow or absent
 * collector delays no fault and no revert, and the final flush is bounded by the export timeout.
 */
export async function startRunTraces(
  config: TraceConfig,
  experiment: Experiment,
  runId: string,
  toolVersion: string,
): Promise<RunTraces> {
  const [api, core, resources, sdk, otlp, { RunTrace }] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/core"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("./run-trace.js"),
  ]);
  const exporter = new otlp.OTLPTraceExporter({
    ...(config.url ? { url: config.url } : {}),
    ...(config.headers ? { headers: config.headers } : {}),
    timeoutMillis: config.timeoutMs,
  });
  const tally = { sent: 0, failed: 0, error: "" };
  const counting: import("@opentelemetry/sdk-trace-base").SpanExporter = {
    export: (spans, done) =>
      exporter.export(spans, (result) => {
        if (result.code === core.ExportResultCode.SUCCESS) tally.sent += spans.length;
        else {
          tally.failed += spans.length;
          tally.error = result.error?.message ?? "export failed";
        }
        done(result);
      }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over our defaults.
  const resource = resources
    .resourceFromAttributes({ "service.name": "chaoskit", "service.version": toolVersion })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdk.BasicTracerProvider({
    resource,
    spanProcessors: [
      new sdk.BatchSpanProcessor(counting, {
        scheduledDelayMillis: 1_000,
        exportTimeoutMillis: config.timeoutMs,
      }),
    ],
  });
  const propagator = new core.W3CTraceContextPropagator();
  const parent = config.parent
    ? propagator.extract(api.ROOT_CONTEXT, config.parent, api.defaultTextMapGetter)
    : api.ROOT_CONTEXT;
  const runTrace = new RunTrace(provider.getTracer("chaoskit", toolVersion), experiment, runId, parent);
  return {
    trace: runTrace,
    headersFor: (context = runTrace.context) => {
      const carrier: Record<string, string> = {};
      propagator.inject(context, carrier, api.defaultTextMapSetter);
      return carrier;
    },
    end: async () => {
      const flushed = await bounded(provider.forceFlush(), config.timeoutMs);
      // Shutting down drops what the flush could not send; it must not wait on the collector again.
      void bounded(provider.shutdown(), 1_000);
      const unsent = runTrace.started - tally.sent;
      if (unsent <= 0) return undefined;
      const why = tally.error || (flushed ? "dropped" : `no answer within ${config.timeoutMs} ms`);
      return `traces: ${unsent} of ${runTrace.started} spans were not sent to ${config.shownTarget}: ${why}`;
    },
  };
}

/** Resolves true when `work` settled in time, false when the deadline came first; never rejects. */
function bounded(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

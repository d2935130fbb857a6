import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../examples/target-app/stack.js";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../support/otlp-receiver.js";

/**
 * The sample app traced with the run: OTEL_EXPORTER_OTLP_ENDPOINT set for the toolkit and the app alike, a
 * probe's check and the requests it caused in every service form one trace, and the fault shows in it.
 */
let dir: string;
let receiver: OtlpReceiver;
let stack: Stack;

beforeAll(async () => {
  await ensureCliBuilt();
  dir = await mkdtemp(join(tmpdir(), "chaos-app-traces-"));
  receiver = await startOtlpReceiver();
  const before = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint; // the stack's services inherit it
  try {
    stack = await startStack({ load: false, runDir: join(dir, "app") });
  } finally {
    if (before === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = before;
  }
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the sample app in the run's trace", () => {
  it("puts each check's request through web, orders, payments and gateway under the check, the fault's latency visible", async () => {
    const file = join(dir, "experiment.yaml");
    await writeFile(
      file,
      `version: 1
title: payments sees a slow provider
configuration:
  toxiproxy: { url: "${stack.toxiproxyUrl}" }
steady-state:
  probes:
    - name: checkout works
      http: { url: "${stack.urls.web}/checkout", method: POST, body: { amount: 100 }, timeout: 3s }
      tolerance: { status: 201 }
  during: { every: 400ms }
method:
  - action: toxiproxy.latency
    name: slow provider
    target: { proxy: payments-gateway }
    args: { latency: 150ms }
    duration: 1500ms
`,
    );
    const run = await runCli(
      ["run", file, "--ledger", join(dir, "ledger"), "--journal", join(dir, "journal.json"), "--no-reports"],
      {
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: "chaos-ci" },
        timeoutMs: 40_000,
      },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const root = (spans: ReceivedSpan[]) => spans.find((s) => s.name === "experiment");
    const checks = (spans: ReceivedSpan[]) =>
      spans.filter((s) => s.service === "chaos-ci" && s.name === "activity: checkout works");
    const under = (spans: ReceivedSpan[], parent: ReceivedSpan, service: string, name: string) =>
      spans.filter((s) => s.parentSpanId === parent.spanId && s.service === service && s.name === name);
    // Every check's request has reached the gateway and its spans have been exported.
    const spans = await receiver.waitFor((all) => {
      const r = root(all);
      const cs = checks(all);
      return (
        r !== undefined &&
        cs.length >= 3 &&
        cs.every((c) =>
          under(all, c, "web", "POST /checkout").some((w) =>
            under(all, w, "orders", "POST /orders").some((o) =>
              under(all, o, "payments", "POST /payments").some(
                (p) => under(all, p, "gateway", "POST /charges").length > 0,
              ),
            ),
          ),
        )
      );
    }, 20_000);
    const experiment = root(spans)!;
    const during: { payments: ReceivedSpan; gateway: ReceivedSpan }[] = [];
    for (const check of checks(spans)) {
      expect(check.traceId).toBe(experiment.traceId);
      const [web] = under(spans, check, "web", "POST /checkout");
      const [orders] = under(spans, web!, "orders", "POST /orders");
      const [payments] = under(spans, orders!, "payments", "POST /payments");
      const [gateway] = under(spans, payments!, "gateway", "POST /charges");
      for (const s of [web!, orders!, payments!, gateway!]) {
        expect(s.traceId).toBe(experiment.traceId);
        expect(s.attributes["http.response.status_code"]).toBeLessThan(300);
      }
      // Each request starts after the check that made it (clocks of separate processes: a little slack).
      expect(web!.startMs).toBeGreaterThanOrEqual(check.startMs - 50);
      if (check.attributes["chaos.phase"] === "during")
        during.push({ payments: payments!, gateway: gateway! });
    }
    // Under the fault, payments waits for the provider's answer at least the toxic's 150 ms longer than the
    // provider took: the fault's effect, in the same trace as the check that saw it (a check in flight
    // while the toxic is being added or removed may see part of it).
    const waited = during.map(
      ({ payments, gateway }) => payments.endMs - payments.startMs - (gateway.endMs - gateway.startMs),
    );
    expect(Math.max(...waited), JSON.stringify(waited)).toBeGreaterThanOrEqual(140);
  }, 120_000);
});

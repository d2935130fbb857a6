import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { freePorts } from "../lib/free-ports.js";
import { request } from "../lib/http-client.js";
import { parseFragile } from "../lib/practices.js";
import { startPayments } from "./payments.js";

const log = pino({ level: "silent" });
let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** payments whose gateway address has nothing listening: every charge attempt is refused. */
async function paymentsWithDeadGateway(fragile: string) {
  const [deadPort] = await freePorts(1);
  server = await startPayments({
    port: 0,
    gatewayUrl: `http://127.0.0.1:${deadPort}`,
    practices: parseFragile(fragile),
    log,
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pay = () =>
    request(`${base}/payments`, {
      method: "POST",
      body: { orderId: "o-1", amount: 4200 },
      headers: { "idempotency-key": "order-o-1" },
      timeoutMs: 5000,
    });
  const metrics = async () => (await request(`${base}/metrics`)).text;
  return { base, pay, metrics };
}

describe("payments fallback", () => {
  it("accepts the payment as pending when the gateway is unreachable, and opens its breaker", async () => {
    const payments = await paymentsWithDeadGateway("");
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await payments.pay());
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
    expect(answers[0]?.json).toMatchObject({ status: "pending", orderId: "o-1" });
    const text = await payments.metrics();
    expect(text).toContain('circuit_breaker_fallbacks_total{service="payments",target="gateway"} 4');
    expect(text).toContain('circuit_breaker_state{service="payments",target="gateway"} 2');
  });

  it("fails the payment with 502 when the breaker practice is switched off", async () => {
    const payments = await paymentsWithDeadGateway("breaker");
    const answer = await payments.pay();
    expect(answer.status).toBe(502);
    expect(await payments.metrics()).toContain('client_retries_total{service="payments",target="gateway"} 2');
  });

  it("rejects a payment without an Idempotency-Key", async () => {
    const { base } = await paymentsWithDeadGateway("");
    const answer = await request(`${base}/payments`, { method: "POST", body: { orderId: "o", amount: 1 } });
    expect(answer.status).toBe(400);
  });
});

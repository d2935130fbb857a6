import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { request } from "../lib/http-client.js";
import { parseFragile } from "../lib/practices.js";
import { startGateway } from "./gateway.js";

const log = pino({ level: "silent" });
let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function gateway(fragile: string) {
  server = await startGateway({ port: 0, practices: parseFragile(fragile), log, processingMs: 1 });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const charge = (key: string) =>
    request(`${base}/charges`, {
      method: "POST",
      body: { amount: 4200, currency: "eur", orderId: "o-1" },
      headers: { "idempotency-key": key },
      timeoutMs: 2000,
    });
  const metric = async (name: string) => {
    const text = (await request(`${base}/metrics`)).text;
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return Number(line?.split(" ")[1]);
  };
  return { charge, metric };
}

describe("gateway idempotency", () => {
  it("answers a repeated Idempotency-Key with the first charge and does not charge again", async () => {
    const gw = await gateway("");
    const first = await gw.charge("order-1");
    const again = await gw.charge("order-1");
    const other = await gw.charge("order-2");
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect((again.json as { id: string }).id).toBe((first.json as { id: string }).id);
    expect((other.json as { id: string }).id).not.toBe((first.json as { id: string }).id);
    expect(await gw.metric("gateway_charges_total")).toBe(2);
    expect(await gw.metric("gateway_idempotent_replays_total")).toBe(1);
    expect(await gw.metric("gateway_duplicate_charges_total")).toBe(0);
  });

  it("charges a repeated key again and counts a duplicate when idempotency is switched off", async () => {
    const gw = await gateway("idempotency");
    const first = await gw.charge("order-1");
    const again = await gw.charge("order-1");
    await gw.charge("order-1");
    expect(again.status).toBe(201);
    expect((again.json as { id: string }).id).not.toBe((first.json as { id: string }).id);
    expect(await gw.metric("gateway_charges_total")).toBe(3);
    expect(await gw.metric("gateway_duplicate_charges_total")).toBe(2);
    expect(await gw.metric("gateway_idempotent_replays_total")).toBe(0);
  });

  it("answers a charge big enough (over 1.5 KB) for a bandwidth squeeze to be felt", async () => {
    const gw = await gateway("");
    const response = await gw.charge("order-3");
    expect(Buffer.byteLength(response.text)).toBeGreaterThan(1500);
  });
});

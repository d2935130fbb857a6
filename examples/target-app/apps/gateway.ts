import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { Logger } from "pino";
import { Counter } from "prom-client";
import { ChargeStore } from "../lib/charge-store.js";
import { createServiceMetrics } from "../lib/metrics.js";
import type { Practices } from "../lib/practices.js";
import { startServiceServer } from "../lib/server.js";

export interface GatewayConfig {
  port: number;
  practices: Practices;
  log: Logger;
  /** Simulated processing time of a charge, in ms. */
  processingMs?: number;
}

/**
 * Starts the fake payment provider: POST /charges charges `amount` and answers a charge object of about
 * 1.6 KB (the size of a real provider's), so a bandwidth squeeze on its link is felt.
 *
 * With the idempotency practice on, a repeated Idempotency-Key gets the first charge back without charging
 * again (counted in gateway_idempotent_replays_total). With it off, the provider charges every request, and
 * each repeat of an already charged key is counted in gateway_duplicate_charges_total.
 * @throws the listen error.
 */
export async function startGateway(config: GatewayConfig): Promise<Server> {
  const service = "gateway";
  const metrics = createServiceMetrics(service);
  const charges = new Counter({
    name: "gateway_charges_total",
    help: "Charges made (money moved), duplicates included.",
    registers: [metrics.registry],
  });
  const duplicates = new Counter({
    name: "gateway_duplicate_charges_total",
    help: "Charges made again under an Idempotency-Key that was already charged.",
    registers: [metrics.registry],
  });
  const replays = new Counter({
    name: "gateway_idempotent_replays_total",
    help: "Repeated Idempotency-Keys answered with the first charge instead of charging again.",
    registers: [metrics.registry],
  });
  const store = new ChargeStore();
  const processingMs = config.processingMs ?? 5;

  return startServiceServer({
    service,
    port: config.port,
    metrics,
    log: config.log,
    routes: {
      "POST /charges": async ({ headers, body }) => {
        const input = (body ?? {}) as { amount?: unknown; currency?: unknown; orderId?: unknown };
        if (typeof input.amount !== "number" || input.amount <= 0) {
          return { status: 400, body: { error: "amount must be a positive number" } };
        }
        const key = typeof headers["idempotency-key"] === "string" ? headers["idempotency-key"] : undefined;
        const stored = key === undefined ? undefined : store.get(key);
        if (stored !== undefined && config.practices.idempotency) {
          replays.inc();
          return { status: 200, body: JSON.parse(stored), headers: { "idempotent-replayed": "true" } };
        }
        await new Promise((resolve) => setTimeout(resolve, processingMs));
        if (key !== undefined && store.has(key)) duplicates.inc();
        charges.inc();
        const charge = chargeObject(
          input.amount,
          String(input.currency ?? "eur"),
          String(input.orderId ?? ""),
          key,
        );
        if (key !== undefined) store.remember(key, JSON.stringify(charge));
        return { status: 201, body: charge };
      },
    },
  });
}

/** A charge shaped like a real provider's, fields and all. Never throws. */
export function chargeObject(amount: number, currency: string, orderId: string, key: string | undefined) {
  const id = `ch_${randomUUID().replaceAll("-", "")}`;
  const created = Math.floor(Date.now() / 1000);
  return {
    id,
    object: "charge",
    amount,
    amount_captured: amount,
    amount_refunded: 0,
    currency,
    status: "succeeded",
    paid: true,
    captured: true,
    refunded: false,
    created,
    livemode: false,
    idempotency_key: key ?? null,
    description: `Order ${orderId}`,
    metadata: { order_id: orderId },
    billing_details: {
      name: "Ada Lovelace",
      email: "ada@example.com",
      phone: null,
      address: {
        line1: "12 St James's Square",
        line2: null,
        city: "London",
        postal_code: "SW1Y 4JH",
        country: "GB",
      },
    },
    payment_method: `pm_${id.slice(3, 27)}`,
    payment_method_details: {
      type: "card",
      card: {
        brand: "visa",
        last4: "4242",
        exp_month: 12,
        exp_year: 2030,
        funding: "credit",
        country: "US",
        network: "visa",
        fingerprint: "Xt5EWLLDS7FJjR1c",
        checks: { address_line1_check: "pass", address_postal_code_check: "pass", cvc_check: "pass" },
        three_d_secure: null,
        wallet: null,
      },
    },
    outcome: {
      network_status: "approved_by_network",
      reason: null,
      risk_level: "normal",
      risk_score: 32,
      seller_message: "Payment complete.",
      type: "authorized",
    },
    fraud_details: {},
    balance_transaction: `txn_${id.slice(3, 27)}`,
    receipt_email: "ada@example.com",
    receipt_number: null,
    receipt_url: `https://payments.example.com/receipts/acct_1Example/${id}/rcpt_${id.slice(3)}`,
    refunds: { object: "list", data: [], has_more: false, total_count: 0, url: `/v1/charges/${id}/refunds` },
    statement_descriptor: "CHAOSKIT SHOP",
    statement_descriptor_suffix: null,
    transfer_group: null,
  };
}

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { toxiproxyAgent } from "../../src/agents/toxiproxy/index.js";
import type { ToxiproxyServer } from "../../src/proxy/server.js";
import { testContext } from "../support/agent-context.js";
import type { HostileServer } from "../support/hostile.js";
import { front, isAddToxic, isDeleteToxic, realToxiproxy, toxicsOn } from "../support/hostile-cases.js";

const latency = toxiproxyAgent.actions.latency!;

let real: ToxiproxyServer;
let hostile: HostileServer | undefined;

beforeEach(async () => {
  real = await realToxiproxy();
});
afterEach(async () => {
  await hostile?.close();
  hostile = undefined;
  await real.close();
});

/** Prepares a latency fault on `app` through `url`, with `timeout` per API call. */
async function prepare(url: string, timeout: string, signal = new AbortController().signal) {
  const ctx = testContext({ configuration: { toxiproxy: { url, timeout } }, signal });
  const fault = await latency.prepare({ target: { proxy: "app" }, args: { latency: "100ms" } }, ctx);
  return { fault, ctx };
}

/** How long `work` took to settle, and how it failed. */
async function failure(work: Promise<unknown>): Promise<{ ms: number; message: string }> {
  const started = Date.now();
  const err = await work.then(
    () => new Error("it did not fail"),
    (e: Error) => e,
  );
  return { ms: Date.now() - started, message: err.message };
}

describe("Toxiproxy calls against a server that accepts and never answers", () => {
  it("end at their deadline", async () => {
    hostile = await front(real, "hang", isAddToxic);
    const { fault, ctx } = await prepare(hostile.url, "300ms");
    const f = await failure(fault.apply());
    expect(f.message).toContain("no answer within 300ms");
    expect(f.ms).toBeLessThan(3000);
    // The toxic landed although its answer never came: the revert in the ledger removes it.
    expect(await toxicsOn(real)).toBe(1);
    await toxiproxyAgent.revert(fault.revert!, ctx);
    expect(await toxicsOn(real)).toBe(0);
    await ctx.dispose();
  });

  it("end at once when the run is aborted, however far their deadline", async () => {
    hostile = await front(real, "hang", isAddToxic);
    const run = new AbortController();
    const { fault, ctx } = await prepare(hostile.url, "60s", run.signal);
    setTimeout(() => run.abort(), 200);
    const f = await failure(fault.apply());
    expect(f.message).toContain("aborted (the run is stopping)");
    expect(f.ms).toBeLessThan(3000);
    await ctx.dispose();
  });

  it("keep the run's deadline when a fresh process reverts from the ledger", async () => {
    hostile = await front(real, "hang", isDeleteToxic, false);
    const { fault, ctx } = await prepare(hostile.url, "300ms");
    await fault.apply();
    expect(fault.revert!.data.timeoutMs).toBe(300);
    // As `chaos rollback` does: no configuration, only what the ledger entry holds.
    const fresh = testContext({ signal: AbortSignal.timeout(60_000) });
    const f = await failure(toxiproxyAgent.revert(fault.revert!, fresh));
    expect(f.message).toContain("no answer within 300ms");
    expect(f.ms).toBeLessThan(3000);
    expect(await toxicsOn(real)).toBe(1);
    await Promise.all([ctx.dispose(), fresh.dispose()]);
  });
});

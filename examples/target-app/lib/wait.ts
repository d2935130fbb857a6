import { setTimeout as sleep } from "node:timers/promises";
import { request } from "./http-client.js";

/**
 * Waits until every URL answers 200.
 * @throws Error naming the URLs still not answering when `timeoutMs` runs out.
 */
export async function waitForHealthy(urls: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...urls];
  while (pending.length > 0) {
    const results = await Promise.all(
      pending.map((url) =>
        request(url, { timeoutMs: 1000 }).then(
          (response) => response.status === 200,
          () => false,
        ),
      ),
    );
    pending = pending.filter((_, i) => !results[i]);
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`not healthy after ${timeoutMs} ms: ${pending.join(", ")}`);
    await sleep(100);
  }
}

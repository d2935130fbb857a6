import { randomBytes } from "node:crypto";
import { ChaosError } from "../../experiments/errors.js";
import { answer } from "./http.js";
import type { Session } from "./session.js";

const NEEDS_OURS =
  "HTTP faults need chaoskit's proxy: omit configuration.toxiproxy.url to use the embedded one, or point it at `chaos proxy`";

/**
 * Asks the server whether it knows the HTTP toxic types, touching nothing: it sends an `http_status` toxic
 * whose status no server accepts (1). A server that knows the type refuses the attribute (400 naming
 * `HttpStatusToxic`); Toxiproxy, which does not, refuses the type (400 `invalid toxic type`) before it
 * looks at anything else. The question goes to the first of `proxies` the server has (the type is
 * checked after the proxy is found).
 * @throws ChaosError("agent") when the server does not know them, cannot be asked, or answers otherwise.
 */
export async function requireHttpToxics(
  session: Session,
  proxies: string[],
  signal?: AbortSignal,
): Promise<void> {
  const { url, config } = session;
  for (const proxy of proxies) {
    const name = `chaos-preflight-${randomBytes(4).toString("hex")}`;
    const body = JSON.stringify({
      name,
      type: "http_status",
      stream: "upstream",
      toxicity: 0,
      attributes: { status: 1 },
    });
    const path = `${url}/proxies/${encodeURIComponent(proxy)}/toxics`;
    let res: { status: number; text: string };
    try {
      res = await answer(
        path,
        { method: "POST", body, headers: { "content-type": "application/json" } },
        config.timeoutMs,
        signal,
      );
    } catch (err) {
      throw new ChaosError(
        "agent",
        `toxiproxy at ${url}: asking whether it knows HTTP toxics: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const error = errorOf(res.text);
    if (res.status === 404) continue;
    if (res.status === 400 && error.includes("HttpStatusToxic")) return;
    if (res.status === 400 && error === "invalid toxic type") {
      throw new ChaosError(
        "agent",
        `toxiproxy at ${url} does not know HTTP toxics (it answered http_status with 400 "invalid toxic type"); nothing was injected`,
        { hint: NEEDS_OURS },
      );
    }
    if (res.status >= 200 && res.status < 300) {
      // It took a toxic no implementation of ours would: whatever it is, it is gone again before anything else.
      await answer(`${path}/${name}`, { method: "DELETE" }, config.timeoutMs, signal).catch(() => undefined);
    }
    throw new ChaosError(
      "agent",
      `toxiproxy at ${url} answered a check for HTTP toxics with ${res.status}${error ? ` "${error}"` : ""}: its HTTP toxics (if any) are not chaoskit's`,
      { hint: NEEDS_OURS },
    );
  }
  throw new ChaosError(
    "agent",
    `toxiproxy at ${url} has none of the proxies ${proxies.join(", ")} yet, so whether it knows HTTP toxics cannot be asked`,
    {
      hint: "create the proxy before the run, or use the embedded proxy (omit configuration.toxiproxy.url)",
    },
  );
}

function errorOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error : "";
  } catch {
    return "";
  }
}

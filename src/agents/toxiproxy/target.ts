import { ChaosError } from "../../experiments/errors.js";
import type { JsonSchema } from "../agent.js";
import type { ProxySpec } from "./config.js";
import type { ProxyState, ToxiproxyOps } from "./ops.js";
import type { Session } from "./session.js";

/** `{ proxy: name }`, `{ proxy: [names] }`, or `{ from: service, to: service }` (through the proxies' from/to). */
export const targetSchema: JsonSchema = {
  type: "object",
  description: "the proxies to act on: by name, or every configured proxy from one service to another",
  properties: {
    proxy: {
      oneOf: [
        { type: "string", minLength: 1 },
        { type: "array", items: { type: "string", minLength: 1 }, minItems: 1, uniqueItems: true },
      ],
    },
    from: { type: "string", minLength: 1 },
    to: { type: "string", minLength: 1 },
  },
  oneOf: [{ required: ["proxy"] }, { required: ["from", "to"] }],
  additionalProperties: false,
};

/** A target proxy as it is now, or as it will be created (`exists: false`). */
export interface ResolvedProxy extends ProxyState {
  exists: boolean;
  /** The TLS termination a proxy to be created asks for. */
  tls?: Record<string, unknown>;
}

/**
 * The configured proxies going from one service to another.
 * @throws ChaosError("agent") when none is configured, naming the pairs that are.
 */
export function proxiesBetween(session: Session, from: string, to: string): string[] {
  const names = session.config.proxies.filter((p) => p.from === from && p.to === to).map((p) => p.name);
  if (names.length === 0) {
    const pairs = session.config.proxies.filter((p) => p.from && p.to).map((p) => `${p.from} → ${p.to}`);
    throw new ChaosError("agent", `no toxiproxy proxy is configured from ${from} to ${to}`, {
      hint: pairs.length
        ? `configured: ${pairs.join(", ")}`
        : "give the proxies under configuration.toxiproxy.proxies a `from` and a `to`",
    });
  }
  return names;
}

/** The names a target designates. @throws ChaosError("agent") for a from/to pair with no proxy. */
export function targetNames(session: Session, target: Record<string, unknown>): string[] {
  if (typeof target.proxy === "string") return [target.proxy];
  if (Array.isArray(target.proxy)) return target.proxy as string[];
  return proxiesBetween(session, String(target.from), String(target.to));
}

/**
 * Looks each proxy up on the server; one that is missing but configured will be created by the action.
 * @throws ChaosError("agent") for a proxy that neither exists nor is configured, or an API failure.
 */
export async function resolveProxies(
  session: Session,
  ops: ToxiproxyOps,
  names: string[],
): Promise<ResolvedProxy[]> {
  const configured = new Map<string, ProxySpec>(session.config.proxies.map((p) => [p.name, p]));
  return Promise.all(
    names.map(async (name) => {
      const found = await ops.proxy(name);
      if (found) return { ...found, exists: true };
      const spec = configured.get(name);
      if (!spec) {
        throw new ChaosError("agent", `proxy ${name} not found at toxiproxy ${session.url}`, {
          hint: "create it, or define it (name, listen, upstream) under configuration.toxiproxy.proxies",
        });
      }
      const created = { name, listen: spec.listen, upstream: spec.upstream, enabled: true, exists: false };
      return spec.tls ? { ...created, tls: spec.tls } : created;
    }),
  );
}

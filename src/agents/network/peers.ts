import { isIPv4 } from "node:net";
import { ChaosError } from "../../experiments/errors.js";
import type { JsonSchema } from "../agent.js";

/**
 * One entry of `to` / `from`: an IPv4 address or CIDR, a port, or both.
 *   "127.0.0.1:5432"  one address and port      "10.0.0.0/8"  a network, any port      ":9000"  any address
 */
export interface Peer {
  /** `a.b.c.d/n`; absent for any address. */
  cidr?: string;
  port?: number;
}

/** JSON Schema of a `to` / `from` list. */
export const peersSchema = (description: string): JsonSchema => ({
  type: "array",
  minItems: 1,
  items: { type: "string", minLength: 2 },
  description,
});

/**
 * Parses one entry.
 * @throws ChaosError("invalid") naming the entry and the forms it may take (host names are not resolved:
 * the target's namespace may resolve them otherwise).
 */
export function parsePeer(text: string, where: string): Peer {
  const bad = (why: string) =>
    new ChaosError("invalid", `${where}: ${JSON.stringify(text)} ${why}`, {
      hint: 'write "10.0.0.5:5432", "10.0.0.0/8" or ":9000" (IPv4 only; names are not resolved)',
    });
  let host = text.trim();
  let port: number | undefined;
  const m = /^(.*):(\d+)$/.exec(host);
  if (m) {
    host = m[1]!;
    port = Number(m[2]);
    if (port < 1 || port > 65535) throw bad("has a port outside 1-65535");
  }
  if (host === "") {
    if (port === undefined) throw bad("names nothing");
    return { port };
  }
  const [addr, bits, ...rest] = host.split("/");
  if (rest.length > 0 || !isIPv4(addr ?? "")) throw bad("is not an IPv4 address or CIDR");
  const prefix = bits === undefined ? 32 : Number(bits);
  if (!/^\d+$/.test(bits ?? "32") || prefix > 32) throw bad("has a prefix length outside 0-32");
  return { cidr: `${addr}/${prefix}`, port };
}

/** Parses a validated list; `undefined` stays `undefined` (no entry given). @throws like `parsePeer`. */
export function readPeers(value: unknown, where: string): Peer[] | undefined {
  if (value === undefined) return undefined;
  return (value as string[]).map((t, i) => parsePeer(t, `${where}[${i}]`));
}

/** "127.0.0.1/32:5432", "*:9000", "10.0.0.0/8" — for descriptions. */
export function describePeer(p: Peer): string {
  return `${p.cidr ?? "*"}${p.port !== undefined ? `:${p.port}` : ""}`;
}

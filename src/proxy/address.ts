import type { AddressInfo } from "node:net";

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Splits `host:port`, `[::1]:port` or `:port` the way Go's net.SplitHostPort does.
 * Returns an error message in Go's words when the address is malformed.
 */
export function splitHostPort(address: string): HostPort | string {
  const colon = address.lastIndexOf(":");
  if (colon < 0) return `address ${address}: missing port in address`;
  let host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  else if (host.includes(":")) return `address ${address}: too many colons in address`;
  if (portText === "") return { host, port: 0 };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) return `address ${portText}: invalid port`;
  return { host, port };
}

/** Formats a bound address as Go prints it: `127.0.0.1:8474`, `[::1]:8474`. */
export function formatAddress(info: AddressInfo): string {
  return info.family === "IPv6" ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|::ffff:127(\.\d{1,3}){3})$/i;
const ANY = new Set(["", "0.0.0.0", "::", "[::]"]);

/**
 * True when `upstream` reaches the listener bound at `bound`: the same port on the same address, on a
 * loopback name when the listener is on loopback, or on any local name when it listens on every address.
 * Such a proxy connects to itself for every connection it accepts, without end.
 */
export function pointsAtItself(bound: AddressInfo, upstream: string): boolean {
  const target = splitHostPort(upstream);
  if (typeof target === "string" || target.port !== bound.port) return false;
  const host = target.host.toLowerCase();
  if (host === bound.address.toLowerCase() || ANY.has(host)) return true;
  if (ANY.has(bound.address)) return LOOPBACK.test(host);
  return LOOPBACK.test(host) && LOOPBACK.test(bound.address);
}

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

import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { ChaosError } from "../experiments/errors.js";
import { populateInputs } from "./api-proxies.js";
import { decodeBody } from "./go-json.js";
import type { ProxyConfig } from "./server.js";
import { readTlsInput, TlsConfigError } from "./tls.js";

const HINT =
  'write a JSON array like [{"name":"redis","listen":"127.0.0.1:26379","upstream":"127.0.0.1:6379"}]';

/**
 * Reads a Toxiproxy `-config` file strictly (`--strict-config`): a JSON array of proxies (`name`, `listen`, `upstream`, optional `enabled`).
 * @throws ChaosError("invalid") naming the file and the first problem when it cannot be read or is malformed.
 */
export async function loadProxyConfig(file: string): Promise<ProxyConfig[]> {
  const invalid = (what: string) =>
    new ChaosError("invalid", `proxy config ${file}: ${what}`, { hint: HINT });
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw invalid(`cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw invalid(`not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw invalid("expected a JSON array of proxies");
  const names = new Set<string>();
  return data.map((item: unknown, i): ProxyConfig => {
    const at = `proxy ${i + 1}`;
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw invalid(`${at} is not an object`);
    const { name, listen, upstream, enabled, tls } = item as Record<string, unknown>;
    if (typeof name !== "string" || name === "") throw invalid(`${at} needs a "name" string`);
    if (typeof listen !== "string" || listen === "")
      throw invalid(`${at} (${name}) needs a "listen" address`);
    if (typeof upstream !== "string" || upstream === "")
      throw invalid(`${at} (${name}) needs an "upstream" address`);
    if (enabled !== undefined && typeof enabled !== "boolean")
      throw invalid(`${at} (${name}): "enabled" must be true or false`);
    if (names.has(name)) throw invalid(`${at}: the name "${name}" is used twice`);
    names.add(name);
    const proxy: ProxyConfig = { name, listen, upstream };
    if (enabled !== undefined) proxy.enabled = enabled;
    try {
      const settings = readTlsInput(tls, name);
      if (settings) proxy.tls = settings;
    } catch (err) {
      throw invalid((err as Error).message);
    }
    return proxy;
  });
}

/**
 * Reads a `-config` file as Toxiproxy does without `--strict-config`: decoded like a POST /populate body,
 * and a file that cannot be read or decoded is logged and yields no proxy, so the server still starts.
 * @throws ChaosError("invalid") only for a malformed `tls` (an extension 2.12 does not read): a proxy
 *         asked to terminate TLS is never started as one that passes it through.
 */
export async function readProxyConfigLeniently(file: string, log: Logger): Promise<ProxyConfig[]> {
  try {
    return populateInputs(decodeBody(await readFile(file, "utf8")));
  } catch (err) {
    if (err instanceof TlsConfigError)
      throw new ChaosError("invalid", `proxy config ${file}: ${err.message}`);
    const reason = err instanceof Error ? err.message : String(err);
    log.error({ config: file, err: reason, hint: HINT }, "error reading config file; starting without it");
    return [];
  }
}

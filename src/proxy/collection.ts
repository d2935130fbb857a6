import { ErrProxyAlreadyExists, ErrProxyNotFound } from "./api-error.js";
import { type ProxyEnv, type ProxySettings, sameAddress, TcpProxy } from "./proxy.js";
import { loadTls, sameTls, type TlsSettings } from "./tls.js";

export interface ProxyInput extends ProxySettings {
  name: string;
  /** Terminate TLS with these files; absent: TLS passes through untouched. */
  tls?: TlsSettings;
}

/**
 * True when an existing proxy already answers for `input`: same upstream, same listen once resolved
 * (`localhost:P` is `127.0.0.1:P`; port 0 = any port).
 */
function sameAddresses(proxy: TcpProxy, input: ProxyInput): boolean {
  if (proxy.upstream !== input.upstream || !sameTls(proxy.tls?.settings, input.tls)) return false;
  if (sameAddress(input.listen, proxy.listen)) return true;
  const wanted = input.listen.lastIndexOf(":");
  const have = proxy.listen.lastIndexOf(":");
  return (
    input.listen.slice(wanted + 1) === "0" &&
    (input.listen.slice(0, wanted) === proxy.listen.slice(0, have) ||
      (input.listen.startsWith("localhost:") && proxy.listen.startsWith("127.0.0.1:")))
  );
}

/** Every proxy of one server by name. */
export class ProxyCollection {
  private readonly proxies = new Map<string, TcpProxy>();

  constructor(private readonly env: ProxyEnv) {}

  /** Sorted by name, as Go marshals a map. */
  list(): TcpProxy[] {
    return [...this.proxies.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** @throws ApiError 404 when there is no such proxy. */
  get(name: string): TcpProxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw ErrProxyNotFound;
    return proxy;
  }

  /**
   * @throws ApiError 409 when the name is taken, 500 when the proxy cannot listen; TlsConfigError (400)
   *         when its TLS files cannot be read or do not belong together.
   */
  async add(input: ProxyInput): Promise<TcpProxy> {
    if (this.proxies.has(input.name)) throw ErrProxyAlreadyExists;
    const tls = input.tls ? await loadTls(input.name, input.tls) : undefined;
    const proxy = new TcpProxy(input.name, input.listen, input.upstream, this.env, tls);
    if (input.enabled) await proxy.start();
    this.proxies.set(input.name, proxy);
    return proxy;
  }

  /**
   * Keeps an existing proxy with the same addresses (and its toxics); replaces one whose addresses differ.
   * @throws ApiError 500 when the new proxy cannot listen.
   */
  async addOrReplace(input: ProxyInput): Promise<TcpProxy> {
    const existing = this.proxies.get(input.name);
    if (existing) {
      if (sameAddresses(existing, input)) return existing;
      await existing.stop();
      this.proxies.delete(input.name);
    }
    return this.add(input);
  }

  /** @throws ApiError 404 when there is no such proxy. */
  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    this.proxies.delete(name);
    await proxy.stop();
  }

  /**
   * Applies populate entries in order, as Toxiproxy: an entry naming a proxy met earlier (even in the same
   * request) is kept or replaced like any other. Stops at the first proxy that cannot listen.
   * @returns the proxies applied so far, and the error that stopped it, if any.
   */
  async populate(inputs: ProxyInput[]): Promise<{ applied: TcpProxy[]; error?: unknown }> {
    const applied: TcpProxy[] = [];
    for (const input of inputs) {
      try {
        applied.push(await this.addOrReplace(input));
      } catch (error) {
        return { applied, error };
      }
    }
    return { applied };
  }

  /**
   * Enables every proxy and removes every toxic. Every proxy is reset even when one cannot listen again.
   * @throws ApiError 500, the first proxy's failure to listen, once all are done.
   */
  async reset(): Promise<void> {
    let failure: unknown;
    for (const proxy of this.list()) {
      try {
        await proxy.start();
      } catch (err) {
        failure ??= err;
      }
      proxy.toxics.reset();
    }
    if (failure) throw failure;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.stop()));
    this.proxies.clear();
  }
}

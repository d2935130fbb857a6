import { ErrProxyAlreadyExists, ErrProxyNotFound } from "./api-error.js";
import { type ProxyEnv, type ProxySettings, TcpProxy } from "./proxy.js";

export interface ProxyInput extends ProxySettings {
  name: string;
}

/** True when an existing proxy already answers for `input`: same upstream, same listen (port 0 = any port). */
function sameAddresses(proxy: TcpProxy, input: ProxyInput): boolean {
  if (proxy.upstream !== input.upstream) return false;
  if (proxy.listen === input.listen) return true;
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

  /** @throws ApiError 409 when the name is taken, 500 when the proxy cannot listen. */
  async add(input: ProxyInput): Promise<TcpProxy> {
    if (this.proxies.has(input.name)) throw ErrProxyAlreadyExists;
    const proxy = new TcpProxy(input.name, input.listen, input.upstream, this.env);
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

  /** Enables every proxy and removes every toxic. @throws ApiError 500 when a proxy cannot listen again. */
  async reset(): Promise<void> {
    for (const proxy of this.proxies.values()) {
      await proxy.start();
      proxy.toxics.reset();
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.stop()));
    this.proxies.clear();
  }
}

import net from "node:net";
import type { Logger } from "pino";
import { formatAddress, type HostPort, splitHostPort } from "./address.js";
import { internalError } from "./api-error.js";
import { Connection } from "./connection.js";
import type { ByteCounters, Direction, Link } from "./link.js";
import { ToxicCollection, toxicJson } from "./toxic-collection.js";

export interface ProxyEnv {
  log: Logger;
  counters(direction: Direction, proxy: TcpProxy): ByteCounters;
}

export interface ProxySettings {
  listen: string;
  upstream: string;
  enabled: boolean;
}

/** Go's wording for a failed listen, which Toxiproxy answers with a 500. */
function listenError(listen: string, err: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    EADDRINUSE: "bind: address already in use",
    EADDRNOTAVAIL: "bind: cannot assign requested address",
    EACCES: "bind: permission denied",
  };
  const reason = (err.code && reasons[err.code]) ?? err.message;
  return `listen tcp ${listen}: ${reason}`;
}

/**
 * One proxy: a listener on `listen` whose every client connection is joined to a new connection to
 * `upstream`, through the proxy's toxics. Disabled = no listener and no connection.
 */
export class TcpProxy {
  enabled = false;
  readonly toxics: ToxicCollection;
  private readonly connections = new Set<Connection>();
  private listener: net.Server | undefined;
  private target: HostPort | undefined;

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
    private readonly env: ProxyEnv,
  ) {
    this.toxics = new ToxicCollection((direction) => this.links(direction));
  }

  /** Starts listening; `listen` then holds the real address (a port 0 becomes the chosen port).
   * @throws ApiError 500 when the address is malformed or cannot be bound. */
  async start(): Promise<void> {
    if (this.enabled) return;
    const bind = splitHostPort(this.listen);
    if (typeof bind === "string") throw internalError(`listen tcp: ${bind}`);
    const target = splitHostPort(this.upstream);
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) =>
      this.accept(socket),
    );
    const host = bind.host === "localhost" ? "127.0.0.1" : bind.host || undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port: bind.port }, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      throw internalError(listenError(this.listen, err as NodeJS.ErrnoException));
    }
    server.on("error", (err) => this.env.log.warn({ proxy: this.name, err }, "proxy listener error"));
    this.listen = formatAddress(server.address() as net.AddressInfo);
    this.target = typeof target === "string" ? undefined : target;
    this.listener = server;
    this.enabled = true;
    this.env.log.info({ proxy: this.name, listen: this.listen, upstream: this.upstream }, "started proxy");
  }

  /** Stops listening and closes every live connection; resolves once they are all gone. */
  async stop(): Promise<void> {
    const server = this.listener;
    if (!this.enabled || !server) return;
    this.enabled = false;
    this.listener = undefined;
    const closing = [new Promise<void>((resolve) => server.close(() => resolve()))];
    for (const conn of this.connections) {
      conn.destroy();
      closing.push(conn.closed);
    }
    await Promise.all(closing);
    this.env.log.info({ proxy: this.name, listen: this.listen, upstream: this.upstream }, "terminated proxy");
  }

  /** Applies new settings; a changed address restarts the listener.
   * @throws ApiError 500 when the new address cannot be bound. */
  async update(input: ProxySettings): Promise<void> {
    if (input.listen !== this.listen || input.upstream !== this.upstream) {
      await this.stop();
      this.listen = input.listen;
      this.upstream = input.upstream;
    }
    if (input.enabled && !this.enabled) await this.start();
    else if (!input.enabled && this.enabled) await this.stop();
  }

  /** The JSON Toxiproxy answers for a proxy, fields in its order. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      Logger: {},
      toxics: this.toxics.list().map(toxicJson),
    };
  }

  private *links(direction: Direction): Iterable<Link> {
    for (const conn of this.connections) {
      const link = conn.links.get(direction);
      if (link) yield link;
    }
  }

  private accept(client: net.Socket): void {
    const target = this.target;
    if (!this.enabled || !target) {
      this.env.log.warn(
        { proxy: this.name, upstream: this.upstream },
        "unable to open connection to upstream",
      );
      client.destroy();
      return;
    }
    const conn = new Connection(client, target, {
      toxics: (direction) => this.toxics.specs(direction),
      counters: (direction) => this.env.counters(direction, this),
      onUpstreamError: (err) =>
        // An unreachable upstream is what chaos experiments cause on purpose: a warning, not an error.
        this.env.log.warn(
          { proxy: this.name, upstream: this.upstream, err },
          "unable to open connection to upstream",
        ),
    });
    this.connections.add(conn);
    void conn.closed.then(() => this.connections.delete(conn));
  }
}

import net from "node:net";
import type { Logger } from "pino";
import { formatAddress, type HostPort, pointsAtItself, splitHostPort } from "./address.js";
import { ApiError, internalError } from "./api-error.js";
import { Connection } from "./connection.js";
import type { HttpToxicSpec } from "./http/session.js";
import type { ByteCounters, Direction, Link } from "./link.js";
import type { TlsTermination } from "./tls.js";
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

/**
 * Go's wording for a failed listen, which Toxiproxy answers with a 500. The address is the resolved one
 * (`127.0.0.1:3310` for `localhost:3310`), as Go's listener reports it.
 */
function listenError(listen: string, err: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    EADDRINUSE: "bind: address already in use",
    EADDRNOTAVAIL: "bind: cannot assign requested address",
    EACCES: "bind: permission denied",
  };
  if (err.code === "ENOTFOUND") {
    return `listen tcp: lookup ${(err as { hostname?: string }).hostname ?? listen}: no such host`;
  }
  const reason = (err.code && Object.hasOwn(reasons, err.code) && reasons[err.code]) || err.message;
  return `listen tcp ${resolvedListen(listen)}: ${reason}`;
}

/**
 * Where to listen for `listen`. An empty address is a random port, as in Toxiproxy, but on 127.0.0.1
 * rather than every interface; `localhost` is 127.0.0.1, as Go binds it.
 * @throws ApiError 500 when the address is malformed, in Go's words.
 */
function bindAddress(listen: string): { host: string | undefined; port: number } {
  if (listen === "") return { host: "127.0.0.1", port: 0 };
  const bind = splitHostPort(listen);
  if (typeof bind === "string") throw internalError(`listen tcp: ${bind}`);
  return { host: bind.host === "localhost" ? "127.0.0.1" : bind.host || undefined, port: bind.port };
}

/** `listen` with `localhost` written as the 127.0.0.1 it binds; other addresses as given. */
function resolvedListen(listen: string): string {
  const at = splitHostPort(listen);
  if (typeof at === "string" || at.host !== "localhost") return listen;
  return `127.0.0.1:${at.port}`;
}

/** True when `wanted` names the address already bound as `bound` (port 0 asks for a new port). */
export function sameAddress(wanted: string, bound: string): boolean {
  if (wanted === bound) return true;
  const a = splitHostPort(wanted);
  const b = splitHostPort(bound);
  if (typeof a === "string" || typeof b === "string" || a.port === 0 || a.port !== b.port) return false;
  const host = (h: string) => (h === "localhost" ? "127.0.0.1" : h);
  return host(a.host) === host(b.host);
}

/** @throws ApiError 400 when `upstream` is the listener's own address. */
function refuseLoop(bound: net.AddressInfo, upstream: string): void {
  if (pointsAtItself(bound, upstream))
    throw new ApiError(`upstream ${upstream} is the proxy's own listen address ${formatAddress(bound)}`, 400);
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
    /** Terminates TLS from clients (and re-encrypts upstream as set); undefined: bytes pass untouched. */
    readonly tls?: TlsTermination,
  ) {
    this.toxics = new ToxicCollection(
      (direction) => this.links(direction),
      () => {
        for (const conn of this.connections) conn.engageHttp(this.httpSpecs);
      },
    );
  }

  /** Starts listening; `listen` then holds the real address (a port 0 becomes the chosen port).
   * @throws ApiError 500 when the address is malformed or cannot be bound. */
  async start(): Promise<void> {
    if (this.enabled) return;
    this.swap(await this.bind(this.listen, this.upstream), this.upstream);
  }

  /** Stops listening and closes every live connection; resolves once they are all gone. */
  async stop(): Promise<void> {
    const server = this.listener;
    if (!this.enabled || !server) return;
    this.enabled = false;
    this.listener = undefined;
    await Promise.all([
      new Promise<void>((resolve) => server.close(() => resolve())),
      this.dropConnections(),
    ]);
    this.env.log.info({ proxy: this.name, listen: this.listen, upstream: this.upstream }, "terminated proxy");
  }

  /**
   * Applies new settings. A new address is checked and bound before anything changes, so a failure leaves
   * the proxy as it was; then the new listener replaces the old one and the live connections are closed,
   * as a restart in Toxiproxy closes them. The same address written differently (`localhost:P` for
   * `127.0.0.1:P`) is no change: the listener and its connections stay.
   * @throws ApiError 500 when the new address is malformed or cannot be bound.
   */
  async update(input: ProxySettings): Promise<void> {
    const listenChanged = !sameAddress(input.listen, this.listen);
    if (listenChanged) bindAddress(input.listen);
    const upstreamChanged = input.upstream !== this.upstream;
    if (!input.enabled) {
      await this.stop();
      if (listenChanged) this.listen = input.listen;
      this.upstream = input.upstream;
      return;
    }
    if (this.enabled && !listenChanged) {
      if (upstreamChanged) {
        refuseLoop(this.listener!.address() as net.AddressInfo, input.upstream);
        this.swap(this.listener!, input.upstream);
        await this.dropConnections();
      }
      return;
    }
    const old = this.listener;
    const server = old
      ? await this.rebind(old, input.listen, input.upstream)
      : await this.bind(input.listen, input.upstream);
    this.swap(server, input.upstream);
    if (old)
      await Promise.all([new Promise<void>((resolve) => old.close(() => resolve())), this.dropConnections()]);
  }

  /**
   * Listens on `listen`, for connections to `upstream`.
   * @throws ApiError 500 when the address is malformed or cannot be bound, 400 when `upstream` is the
   *         address bound (the listener is then closed again).
   */
  private async bind(listen: string, upstream: string): Promise<net.Server> {
    const address = bindAddress(listen);
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) =>
      this.accept(server, socket),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(address, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      throw internalError(listenError(listen, err as NodeJS.ErrnoException));
    }
    try {
      refuseLoop(server.address() as net.AddressInfo, upstream);
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
    server.on("error", (err) => this.env.log.warn({ proxy: this.name, err }, "proxy listener error"));
    return server;
  }

  /**
   * Binds `listen` while `old` still listens. When the new address overlaps the old one (same port, other
   * host) the old listener is closed first, and bound again if the new one fails.
   * @throws ApiError 500 when `listen` cannot be bound (the old listener then still listens).
   */
  private async rebind(old: net.Server, listen: string, upstream: string): Promise<net.Server> {
    try {
      return await this.bind(listen, upstream);
    } catch (err) {
      const port = (old.address() as net.AddressInfo).port;
      if (!(err instanceof Error) || !err.message.includes("address already in use")) throw err;
      if (bindAddress(listen).port !== port) throw err;
      await new Promise<void>((resolve) => old.close(() => resolve()));
      try {
        return await this.bind(listen, upstream);
      } catch (again) {
        try {
          this.swap(await this.bind(this.listen, this.upstream), this.upstream);
        } catch {
          // The old address was taken meanwhile: the proxy is down, as after a failed start.
          this.listener = undefined;
          this.enabled = false;
          await this.dropConnections();
        }
        throw again;
      }
    }
  }

  /** Makes `server` the listener, enabled, with `upstream` for new connections. */
  private swap(server: net.Server, upstream: string): void {
    const target = splitHostPort(upstream);
    const fresh = server !== this.listener;
    this.listener = server;
    this.listen = formatAddress(server.address() as net.AddressInfo);
    this.upstream = upstream;
    this.target = typeof target === "string" ? undefined : target;
    this.enabled = true;
    if (fresh)
      this.env.log.info({ proxy: this.name, listen: this.listen, upstream: this.upstream }, "started proxy");
  }

  /** Closes every live connection; resolves once they are all gone. */
  private async dropConnections(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const conn of this.connections) {
      conn.destroy();
      closing.push(conn.closed);
    }
    await Promise.all(closing);
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
      // Only a terminating proxy has it: Toxiproxy's clients see the fields they know.
      ...(this.tls ? { tls: this.tls.settings } : {}),
    };
  }

  private readonly httpSpecs = (direction: Direction): readonly HttpToxicSpec[] =>
    this.toxics.httpSpecs(direction);

  private *links(direction: Direction): Iterable<Link> {
    for (const conn of this.connections) {
      const link = conn.links.get(direction);
      if (link) yield link;
    }
  }

  private accept(server: net.Server, client: net.Socket): void {
    const target = this.target;
    if (!this.enabled || !target || server !== this.listener) {
      this.env.log.warn(
        { proxy: this.name, upstream: this.upstream },
        "unable to open connection to upstream",
      );
      client.destroy();
      return;
    }
    const conn = new Connection(
      client,
      target,
      {
        toxics: (direction) => this.toxics.specs(direction),
        httpToxics: () => (this.toxics.hasHttp() ? this.httpSpecs : undefined),
        counters: (direction) => this.env.counters(direction, this),
        onUpstreamError: (err) =>
          // An unreachable upstream is what chaos experiments cause on purpose: a warning, not an error.
          this.env.log.warn(
            { proxy: this.name, upstream: this.upstream, err },
            "unable to open connection to upstream",
          ),
        onClientTlsError: (err) =>
          this.env.log.warn({ proxy: this.name, err: err.message }, "TLS handshake with the client failed"),
      },
      this.tls,
    );
    this.connections.add(conn);
    void conn.closed.then(() => this.connections.delete(conn));
  }
}

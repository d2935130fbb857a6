import net from "node:net";
import tls from "node:tls";
import type { HostPort } from "./address.js";
import { HttpSession, type HttpToxicSpec } from "./http/session.js";
import { type ByteCounters, type ConnectionControl, type Direction, Link, type ToxicSpec } from "./link.js";
import type { TlsTermination } from "./tls.js";

/** Longest wait for a closing socket to flush before it is destroyed anyway. */
const FLUSH_DEADLINE_MS = 5000;

export interface ConnectionHooks {
  toxics(direction: Direction): readonly ToxicSpec[];
  /**
   * The HTTP toxics, read live for each message; undefined when the proxy has none as the connection
   * opens: the connection is then byte-level until `engageHttp` is called.
   */
  httpToxics(): ((direction: Direction) => readonly HttpToxicSpec[]) | undefined;
  counters(direction: Direction): ByteCounters;
  onUpstreamError(err: Error): void;
  /** The client's TLS handshake failed (a terminating proxy only). */
  onClientTlsError?(err: Error): void;
}

/** A client that does not finish its TLS handshake within this long is dropped. */
const HANDSHAKE_DEADLINE_MS = 10_000;

/**
 * One client connection through a proxy and its connection to the upstream:
 *
 *   client ──upstream link──▶ upstream server
 *   client ◀─downstream link── upstream server
 *
 * Both sockets allow half-open state, so a client that ends its side still receives the answer.
 * With `tls` the client's TLS is terminated first (the upstream is only dialled once the handshake is
 * done), the links carry the decrypted bytes, and the upstream is reached over TLS or plain TCP as set.
 */
export class Connection implements ConnectionControl {
  readonly links = new Map<Direction, Link>();
  readonly closed: Promise<void>;
  lingerZero = false;
  /** The sockets the links read and write: TLS sockets over the raw ones where TLS is terminated. */
  private client: net.Socket;
  private server: net.Socket | undefined;
  /** The TCP sockets: a reset goes to them. */
  private readonly rawClient: net.Socket;
  private rawServer: net.Socket | undefined;
  private clientGone = false;
  private serverGone = false;
  private settle!: () => void;

  constructor(
    client: net.Socket,
    private readonly upstream: HostPort,
    private readonly hooks: ConnectionHooks,
    private readonly tlsEnds?: TlsTermination,
  ) {
    this.client = client;
    this.rawClient = client;
    this.closed = new Promise<void>((resolve) => {
      this.settle = resolve;
    });
    client.on("error", () => this.destroy());
    client.once("close", () => {
      this.clientGone = true;
      this.checkClosed();
    });
    if (!tlsEnds) {
      this.dial();
      return;
    }
    const secure = new tls.TLSSocket(client, {
      isServer: true,
      secureContext: tlsEnds.context,
      ALPNProtocols: ["http/1.1"],
    });
    (secure as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
    this.client = secure;
    const deadline = setTimeout(() => this.destroy(), HANDSHAKE_DEADLINE_MS).unref();
    secure.on("error", (err) => {
      if (!this.server) hooks.onClientTlsError?.(err);
      this.destroy();
    });
    secure.once("close", () => clearTimeout(deadline));
    secure.once("secure", () => {
      clearTimeout(deadline);
      if (!client.destroyed) this.dial();
    });
  }

  /** Connects to the upstream (over TLS when set); the links start once it is connected. */
  private dial(): void {
    const { host, port } = this.upstream;
    const raw = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    this.rawServer = raw;
    const upstreamTls = this.tlsEnds?.upstream;
    const server = upstreamTls
      ? tls.connect({
          socket: raw,
          host,
          servername: upstreamTls.servername ?? (net.isIP(host) ? undefined : host),
          ca: upstreamTls.ca,
          rejectUnauthorized: upstreamTls.rejectUnauthorized,
          ALPNProtocols: ["http/1.1"],
        })
      : raw;
    if (upstreamTls) (server as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
    this.server = server;
    raw.once("close", () => {
      this.serverGone = true;
      this.checkClosed();
    });
    const onError = (err: Error) => {
      if (this.links.size === 0) this.hooks.onUpstreamError(err);
      this.destroy();
    };
    raw.on("error", onError);
    if (server !== raw) server.on("error", onError);
    server.once(upstreamTls ? "secureConnect" : "connect", () => this.join(server));
  }

  /** Starts both links once the upstream is connected. */
  private join(server: net.Socket): void {
    const { client, hooks } = this;
    if (client.destroyed) return;
    const toxics = [...hooks.toxics("upstream"), ...hooks.toxics("downstream")];
    this.lingerZero = toxics.some((t) => t.kind.lingerZero);
    const up = new Link(client, server, this, hooks.counters("upstream"), hooks.toxics("upstream"));
    const down = new Link(server, client, this, hooks.counters("downstream"), hooks.toxics("downstream"));
    this.links.set("upstream", up);
    this.links.set("downstream", down);
    const httpToxics = hooks.httpToxics();
    if (httpToxics) this.startHttp(httpToxics);
    client.resume();
  }

  /** Both TCP sockets are closed (or the upstream was never dialled and never will be). */
  private checkClosed(): void {
    if (this.clientGone && (this.serverGone || !this.rawServer)) this.settle();
  }

  /**
   * Gives a byte-level connection the HTTP stage from its next request on: the first bytes the client
   * sends after the upstream last spoke (or its first bytes at all) begin a request, as on a keep-alive
   * connection between exchanges. Bytes in flight until then go on untouched. No-op once engaged.
   */
  engageHttp(toxics: (direction: Direction) => readonly HttpToxicSpec[]): void {
    const up = this.links.get("upstream");
    const down = this.links.get("downstream");
    if (this.http || !up || !down || up.beforeRead) return;
    up.beforeRead = () => {
      if (up.lastRead !== 0 && down.lastRead < up.lastRead) return;
      up.beforeRead = null;
      this.startHttp(toxics);
    };
  }

  private http: HttpSession | undefined;

  private startHttp(toxics: (direction: Direction) => readonly HttpToxicSpec[]): void {
    const http = new HttpSession(toxics, this);
    this.http = http;
    this.links.get("upstream")!.setFront((out) => http.requestStage(out));
    this.links.get("downstream")!.setFront((out) => http.responseStage(out));
  }

  /** Closes both sockets once what was written to them is flushed; with linger 0, resets them. */
  close(): void {
    if (this.lingerZero) {
      this.reset();
      return;
    }
    for (const socket of [this.client, this.server]) {
      if (!socket) continue;
      socket.pause();
      this.destroyLater(socket);
    }
  }

  /** Aborts both TCP sockets with a TCP RST (under TLS too: the record layer is not told). */
  reset(): void {
    for (const socket of [this.rawClient, this.rawServer]) {
      if (socket && !socket.destroyed) socket.resetAndDestroy();
    }
    this.destroy();
  }

  destroy(): void {
    for (const socket of [this.client, this.server, this.rawClient, this.rawServer]) socket?.destroy();
  }

  private destroyLater(socket: net.Socket): void {
    if (socket.destroyed) return;
    socket.destroySoon();
    if (socket.destroyed) return;
    const deadline = setTimeout(() => socket.destroy(), FLUSH_DEADLINE_MS).unref();
    socket.once("close", () => clearTimeout(deadline));
  }
}

import net from "node:net";
import type { HostPort } from "./address.js";
import { HttpSession, type HttpToxicSpec } from "./http/session.js";
import { type ByteCounters, type ConnectionControl, type Direction, Link, type ToxicSpec } from "./link.js";

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
}

/**
 * One client connection through a proxy and its connection to the upstream:
 *
 *   client ──upstream link──▶ upstream server
 *   client ◀─downstream link── upstream server
 *
 * Both sockets allow half-open state, so a client that ends its side still receives the answer.
 */
export class Connection implements ConnectionControl {
  readonly links = new Map<Direction, Link>();
  readonly closed: Promise<void>;
  lingerZero = false;
  private readonly server: net.Socket;

  constructor(
    private readonly client: net.Socket,
    upstream: HostPort,
    hooks: ConnectionHooks,
  ) {
    this.server = net.connect({
      host: upstream.host,
      port: upstream.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    const closedOne = (socket: net.Socket) =>
      new Promise<void>((resolve) => socket.once("close", () => resolve()));
    this.closed = Promise.all([closedOne(client), closedOne(this.server)]).then(() => undefined);
    client.on("error", () => this.destroy());
    this.server.on("error", (err) => {
      if (this.links.size === 0) hooks.onUpstreamError(err);
      this.destroy();
    });
    this.server.once("connect", () => {
      if (client.destroyed) return;
      const toxics = [...hooks.toxics("upstream"), ...hooks.toxics("downstream")];
      this.lingerZero = toxics.some((t) => t.kind.lingerZero);
      const up = new Link(client, this.server, this, hooks.counters("upstream"), hooks.toxics("upstream"));
      const down = new Link(
        this.server,
        client,
        this,
        hooks.counters("downstream"),
        hooks.toxics("downstream"),
      );
      this.links.set("upstream", up);
      this.links.set("downstream", down);
      const httpToxics = hooks.httpToxics();
      if (httpToxics) this.startHttp(httpToxics);
      client.resume();
    });
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
      socket.pause();
      this.destroyLater(socket);
    }
  }

  /** Aborts both sockets with a TCP RST. */
  reset(): void {
    for (const socket of [this.client, this.server]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
  }

  destroy(): void {
    this.client.destroy();
    this.server.destroy();
  }

  private destroyLater(socket: net.Socket): void {
    if (socket.destroyed) return;
    socket.destroySoon();
    if (socket.destroyed) return;
    const deadline = setTimeout(() => socket.destroy(), FLUSH_DEADLINE_MS).unref();
    socket.once("close", () => clearTimeout(deadline));
  }
}

import { chmod, readdir, readFile, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import type { HostPort } from "../../proxy/address.js";
import { Connection } from "../../proxy/connection.js";
import type { HttpToxicSpec } from "../../proxy/http/session.js";
import type { Direction, ToxicSpec } from "../../proxy/link.js";
import { ProxyMetrics } from "../../proxy/metrics.js";
import { TOXICS } from "../../proxy/toxics/index.js";
import type { PlannedToxic } from "./plan.js";

/**
 * The interceptor: a listener inside the target's namespace that receives the connections the nat rules
 * redirect to it, finds where each was going (the conntrack entry the REDIRECT left), and joins it to that
 * destination through the embedded proxy's data path, toxics and all:
 *
 *   target ──connect 10.0.0.5:5432──▶ nat REDIRECT ──▶ interceptor :P ──conntrack: orig 10.0.0.5:5432──▶
 *          Connection(client, 10.0.0.5:5432, toxics)  (its own connection is not redirected: helper gid)
 *
 * A connection with no redirect behind it (someone dialled the port itself) is refused.
 */

/** One conntrack line's two tuples: as sent (orig) and as answered (reply). */
interface Tuples {
  orig: { src: string; dst: string; sport: number; dport: number };
  reply: { src: string; dst: string; sport: number; dport: number };
}

/** Parses the tcp lines of /proc/net/nf_conntrack. */
export function parseConntrack(text: string): Tuples[] {
  const out: Tuples[] = [];
  for (const line of text.split("\n")) {
    if (!/\btcp\b/.test(line)) continue;
    const get = (key: string) => [...line.matchAll(new RegExp(`\\b${key}=(\\S+)`, "g"))].map((m) => m[1]!);
    const [src, dst, sport, dport] = [get("src"), get("dst"), get("sport"), get("dport")];
    if (src.length < 2 || dst.length < 2 || sport.length < 2 || dport.length < 2) continue;
    out.push({
      orig: { src: src[0]!, dst: dst[0]!, sport: Number(sport[0]), dport: Number(dport[0]) },
      reply: { src: src[1]!, dst: dst[1]!, sport: Number(sport[1]), dport: Number(dport[1]) },
    });
  }
  return out;
}

const plainV4 = (a: string | undefined) => (a ?? "").replace(/^::ffff:/, "");

/** Where an accepted, redirected connection was going; `undefined` when it was not redirected to us. */
export async function originalDestination(
  socket: net.Socket,
  ownPort: number,
): Promise<HostPort | undefined> {
  const text = await readFile("/proc/self/net/nf_conntrack", "utf8").catch(() => "");
  const peer = plainV4(socket.remoteAddress);
  const peerPort = socket.remotePort;
  for (const t of parseConntrack(text)) {
    if (t.reply.sport !== ownPort || t.reply.dport !== peerPort || t.reply.dst !== peer) continue;
    if (t.orig.dport === ownPort && t.orig.dst === t.reply.src) return undefined; // dialled us directly
    return { host: t.orig.dst, port: t.orig.dport };
  }
  return undefined;
}

/** The proxy's toxic specs for one redirected connection, byte-level and HTTP, per direction. */
export interface InterceptToxics {
  bytes: Record<Direction, ToxicSpec[]>;
  http: Record<Direction, HttpToxicSpec[]>;
}

/**
 * Builds the proxy's toxic specs from the plan, decoding each toxic's attributes as the proxy's API does.
 * @throws Error for a toxic type the proxy does not know; ApiError 400 for attributes it refuses.
 */
export function toxicSpecs(planned: PlannedToxic[]): InterceptToxics {
  const out: InterceptToxics = {
    bytes: { upstream: [], downstream: [] },
    http: { upstream: [], downstream: [] },
  };
  planned.forEach((t, i) => {
    const kind = TOXICS.get(t.type);
    if (!kind) throw new Error(`unknown toxic type ${t.type}`);
    const name = `${t.type}-${t.stream}-${i}`;
    if (kind.layer === "http") {
      const attributes = kind.decode(t.attributes, kind.defaults);
      out.http[t.stream].push({ name, kind, attributes, toxicity: t.toxicity });
    } else {
      const attributes = { ...kind.defaults, ...(t.attributes as Record<string, number>) };
      out.bytes[t.stream].push({ name, kind, attributes, toxicity: t.toxicity });
    }
  });
  return out;
}

/**
 * Where the interceptor of the fault tagged `tag`, in the namespace `netns`, serves its /metrics: a unix socket in the file system the
 * helper shares with the run (it enters only the target's network namespace), so it is reachable from the
 * host where no port of the namespace is, e.g. `curl --unix-socket PATH http://interceptor/metrics`.
 */
export const metricsSocketPath = (tag: string, netns: number | undefined): string =>
  join(tmpdir(), `chaos-intercept-${tag}-${netns ?? process.pid}.sock`);

/** Removes the /metrics sockets of the fault tagged `tag` that a killed helper could not remove. Never throws. */
export async function removeMetricsSockets(tag: string): Promise<void> {
  const prefix = `chaos-intercept-${tag}-`;
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(prefix) && n.endsWith(".sock"))
      .map((n) => rm(join(tmpdir(), n), { force: true }).catch(() => undefined)),
  );
}

export class Interceptor {
  private readonly connections = new Set<Connection>();
  /** Toxiproxy's byte counters; `proxy` is the fault's tag, `upstream` where each connection was going. */
  readonly metrics = new ProxyMetrics({ proxy: true });
  private server: net.Server | undefined;
  private metricsServer: http.Server | undefined;
  port = 0;
  accepted = 0;

  constructor(
    private readonly toxics: InterceptToxics,
    private readonly log: Logger,
    private readonly name = "intercept",
  ) {}

  /**
   * Serves GET /metrics on a unix socket (owner only). A path that cannot be bound (taken, too long) is
   * logged and leaves the fault as it is: metrics are never a reason to fail one.
   * @returns the socket's path, or undefined when it could not listen.
   */
  async serveMetrics(path: string): Promise<string | undefined> {
    const server = http.createServer((req, res) => {
      if (new URL(req.url ?? "/", "http://interceptor").pathname !== "/metrics") {
        res.writeHead(404).end("404 page not found\n");
        return;
      }
      void this.metrics.render().then((text) => {
        res.writeHead(200, { "Content-Type": this.metrics.contentType }).end(text);
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => resolve());
      });
      await chmod(path, 0o600);
    } catch (err) {
      server.close();
      this.log.warn({ path, err: (err as Error).message }, "interceptor metrics not served");
      return undefined;
    }
    this.metricsServer = server;
    return path;
  }

  /** Listens on every address of the namespace (ingress redirects arrive at the interface's address). */
  async listen(): Promise<number> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (s) =>
      this.accept(s),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "0.0.0.0", port: 0 }, () => resolve());
    });
    server.on("error", (err) => this.log.warn({ err: err.message }, "interceptor listener error"));
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Stops listening and closes every intercepted connection. */
  async close(): Promise<void> {
    const server = this.server;
    const metricsServer = this.metricsServer;
    this.server = undefined;
    this.metricsServer = undefined;
    for (const c of this.connections) c.destroy();
    metricsServer?.closeAllConnections();
    await Promise.all([
      server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined,
      metricsServer ? new Promise<void>((resolve) => metricsServer.close(() => resolve())) : undefined,
      ...[...this.connections].map((c) => c.closed),
    ]);
  }

  private accept(client: net.Socket): void {
    client.on("error", () => undefined);
    void originalDestination(client, this.port).then((target) => {
      if (!target || !this.server) {
        client.destroy();
        return;
      }
      this.accepted++;
      const hasHttp = this.toxics.http.upstream.length + this.toxics.http.downstream.length > 0;
      const conn = new Connection(client, target, {
        toxics: (direction) => this.toxics.bytes[direction],
        httpToxics: () => (hasHttp ? (direction) => this.toxics.http[direction] : undefined),
        counters: (direction) =>
          this.metrics.counters(
            direction,
            this.name,
            `0.0.0.0:${this.port}`,
            `${target.host}:${target.port}`,
          ),
        onUpstreamError: (err) =>
          this.log.warn(
            { upstream: `${target.host}:${target.port}`, err: err.message },
            "upstream unreachable",
          ),
      });
      this.connections.add(conn);
      void conn.closed.then(() => this.connections.delete(conn));
    });
  }
}

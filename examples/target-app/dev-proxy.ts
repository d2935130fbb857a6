// TEMPORARY stand-in for src/proxy/server.ts while it is being written: plain TCP forwarding, no API.
import net from "node:net";
export interface ProxyConfig {
  name: string;
  listen: string;
  upstream: string;
  enabled?: boolean;
}
export async function startToxiproxyServer(opts: { host?: string; port?: number; proxies?: ProxyConfig[]; logger?: unknown }) {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  for (const p of opts.proxies ?? []) {
    const [h, port] = p.listen.split(":");
    const [uh, uport] = p.upstream.split(":");
    const server = net.createServer((client) => {
      const up = net.connect(Number(uport), uh);
      sockets.add(client);
      sockets.add(up);
      client.pipe(up).pipe(client);
      const end = () => {
        client.destroy();
        up.destroy();
      };
      client.on("error", end).on("close", end);
      up.on("error", end).on("close", end);
    });
    await new Promise<void>((r) => server.listen(Number(port), h, r));
    servers.push(server);
  }
  const host = opts.host ?? "127.0.0.1";
  return {
    url: `http://${host}:${opts.port}`,
    host,
    port: opts.port ?? 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}

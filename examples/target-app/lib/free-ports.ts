import net from "node:net";

/**
 * Finds `count` distinct free TCP ports on 127.0.0.1 by binding port 0 that many times at once.
 * @throws the bind error.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** A port free on 127.0.0.1 right now (another process could still take it before it is bound again). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

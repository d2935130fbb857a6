import net from "node:net";

/** The ports a stack started with `basePort` listens on (see examples/target-app/README.md). */
export const STACK_PORT_OFFSETS = [0, 1, 2, 3, 4, 10, 11, 12, 13] as const;
/** Offsets of the /metrics endpoints: the five services, then the Toxiproxy API. */
export const METRICS_PORT_OFFSETS = [0, 1, 2, 3, 4, 10] as const;

/** The scrape targets (`127.0.0.1:port`) of a stack started with `basePort`. Never throws. */
export function metricsTargetsAt(basePort: number): string[] {
  return METRICS_PORT_OFFSETS.map((offset) => `127.0.0.1:${basePort + offset}`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A base port whose stack ports are all free, below Linux's ephemeral range (32768+) so that a port-0
 * listener elsewhere cannot take one of them between two stacks. Stacks started one after another on
 * the same base keep the same scrape targets, so one Prometheus can watch them all.
 * @throws Error when no free block was found.
 */
export async function freeBasePort(low = 20_000, high = 32_000): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * ((high - low - 20) / 20)) * 20;
    const free = await Promise.all(STACK_PORT_OFFSETS.map((offset) => isFree(base + offset)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no free block of ports for the sample app between ${low} and ${high}`);
}

import type { Server } from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createServiceMetrics } from "./metrics.js";
import { startServiceServer } from "./server.js";

/** A service whose one route always fails, logging into `lines`, on a free 127.0.0.1 port. */
async function failingService(level: string, lines: string[]): Promise<{ server: Server; url: string }> {
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const server = await startServiceServer({
    service: "payments",
    port: 0,
    routes: {
      "POST /charges": async () => {
        throw new Error("gateway unreachable");
      },
    },
    metrics: createServiceMetrics("payments"),
    log: pino({ name: "payments", level }, sink),
  });
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}/charges` };
}

describe("the sample app's log during a fault", () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it("writes one line per failed request, without its stack, and the stack only at debug level", async () => {
    const lines: string[] = [];
    const info = await failingService("info", lines);
    server = info.server;
    for (let i = 0; i < 5; i++)
      expect((await fetch(info.url, { method: "POST", body: "{}" })).status).toBe(500);
    const failed = lines.filter((l) => l.includes("handler failed"));
    expect(failed).toHaveLength(5);
    for (const line of lines) expect(line).not.toContain("stack");
    for (const line of failed) {
      expect(JSON.parse(line)).toMatchObject({ msg: "handler failed", error: "Error: gateway unreachable" });
    }
    server.closeAllConnections();
    await new Promise((r) => server?.close(r));

    const debugLines: string[] = [];
    const debug = await failingService("debug", debugLines);
    server = debug.server;
    await fetch(debug.url, { method: "POST", body: "{}" });
    const debugFailed = debugLines.filter((l) => l.includes("handler failed"));
    expect(debugFailed).toHaveLength(1);
    expect(JSON.parse(debugFailed[0]!).err.stack).toContain("gateway unreachable");
  });
});

import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { readIntoOwnBuffers } from "../../src/proxy/socket-reads.js";
import { connect, type TcpServer, tcpServer } from "./helpers.js";

let server: TcpServer | undefined;
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

/** A server whose accepted sockets are handed over still paused, as the proxy's listener does. */
async function acceptPaused(): Promise<{ port: number; accepted: Promise<net.Socket> }> {
  let accept: (s: net.Socket) => void = () => undefined;
  const accepted = new Promise<net.Socket>((resolve) => {
    accept = resolve;
  });
  const listener = net.createServer({ pauseOnConnect: true }, (s) => {
    sockets.push(s);
    accept(s);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  server = {
    port: (listener.address() as net.AddressInfo).port,
    address: "",
    accepted: [],
    close: () => new Promise((resolve) => listener.close(() => resolve())),
  };
  return { port: server.port, accepted };
}

describe("reading a socket into its own buffers", () => {
  it("hands every read of an accepted socket to the callback, in the given buffer, on this Node version", async () => {
    const { port, accepted } = await acceptPaused();
    const writer = await connect(port);
    sockets.push(writer);
    const socket = await accepted;
    const buffer = Buffer.alloc(4096);
    const parts: string[] = [];
    let sameBuffer = true;
    const ended = new Promise<void>((resolve) => socket.once("end", resolve));
    const adopted = readIntoOwnBuffers(
      socket,
      () => buffer,
      (length, into) => {
        sameBuffer &&= into === buffer;
        parts.push(into.toString("utf8", 0, length));
      },
    );
    expect(adopted).toBe(true);
    socket.resume();
    writer.end("hello through the user buffer");
    await ended;
    expect(parts.join("")).toBe("hello through the user buffer");
    expect(sameBuffer).toBe(true);
  });

  it("leaves a socket that is already reading alone, so the caller falls back to 'data' events", async () => {
    server = await tcpServer(() => undefined);
    const socket = await connect(server.port);
    sockets.push(socket);
    socket.resume();
    expect(
      readIntoOwnBuffers(
        socket,
        () => Buffer.alloc(16),
        () => undefined,
      ),
    ).toBe(false);
  });
});

import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { listeningInodes, parseListeningInodes, pidsHoldingSockets } from "./ports.js";

const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
const row = (local: string, state: string, inode: string) =>
  `   0: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0 100 0 0 10 0`;

describe("parseListeningInodes", () => {
  it("finds IPv4 listeners on loopback and the wildcard address", () => {
    const text = [
      HEADER,
      row("0100007F:1F90", "0A", "111"), // 127.0.0.1:8080
      row("00000000:1F90", "0A", "222"), // 0.0.0.0:8080
      row("0100007F:1F91", "0A", "333"), // another port
      row("0100007F:1F90", "01", "444"), // established, not listening
      row("0A00000A:1F90", "0A", "555"), // 10.0.0.10: not a local address
    ].join("\n");
    expect(parseListeningInodes(text, 8080)).toEqual(["111", "222"]);
  });

  it("finds IPv6 listeners on ::, ::1 and v4-mapped loopback", () => {
    const text = [
      HEADER,
      row("00000000000000000000000000000000:1F90", "0A", "1"), // ::
      row("00000000000000000000000001000000:1F90", "0A", "2"), // ::1
      row("0000000000000000FFFF00000100007F:1F90", "0A", "3"), // ::ffff:127.0.0.1
      row("B80D0120000000000000000001000000:1F90", "0A", "4"), // 2001:db8::1
    ].join("\n");
    expect(parseListeningInodes(text, 8080)).toEqual(["1", "2", "3"]);
  });
});

describe("listening sockets of a real server", () => {
  let server: net.Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it.each(["127.0.0.1", "::"])("lead from a port on %s to the process holding it", async (host) => {
    server = net.createServer();
    await new Promise<void>((resolve) => server!.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    const inodes = await listeningInodes(port);
    expect(inodes.size).toBe(1);
    expect(await pidsHoldingSockets(inodes)).toEqual([process.pid]);
  });

  it("find nothing on a port nobody listens on", async () => {
    server = net.createServer();
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    expect((await listeningInodes(port)).size).toBe(0);
  });
});

import { type ICreateToxicBody, type Latency, Toxiproxy } from "toxiproxy-node-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { connect, echoRoundTrip, echoServer, quickestRoundTrip, type TcpServer } from "./helpers.js";

let server: ToxiproxyServer;
let echo: TcpServer;

beforeAll(async () => {
  server = await startToxiproxyServer({ port: 0 });
  echo = await echoServer();
});
afterAll(async () => {
  await server.close();
  await echo.close();
});

describe("the embedded proxy driven by toxiproxy-node-client", () => {
  it("supports the client's whole surface: version, create, populate, toxics, update, remove, reset", async () => {
    const toxiproxy = new Toxiproxy(server.url);
    expect(await toxiproxy.getVersion()).toBe('{"version": "2.12.0"}\n');

    const proxy = await toxiproxy.createProxy({
      name: "compat",
      listen: "127.0.0.1:0",
      upstream: echo.address,
    });
    expect(proxy.enabled).toBe(true);
    const port = Number(proxy.listen.split(":")[1]);

    const populated = await toxiproxy.populate([
      { name: "compat", listen: proxy.listen, upstream: echo.address },
      { name: "other", listen: "127.0.0.1:0", upstream: echo.address },
    ]);
    expect(Object.keys(populated).sort()).toEqual(["compat", "other"]);

    const body: ICreateToxicBody<Latency> = {
      name: "lat",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
      attributes: { latency: 80, jitter: 0 },
    };
    const toxic = await proxy.addToxic(body);
    expect(toxic.toJson()).toEqual(body);
    const socket = await connect(port);
    expect((await echoRoundTrip(socket, Buffer.from("a"))).ms).toBeGreaterThanOrEqual(75);
    // Every round trip through the 80 ms toxic takes 80 ms or more: the quickest of a few below that
    // proves it is gone, however busy the machine.

    const fetched = await proxy.getToxic<Latency>("lat");
    const updated = await fetched.update({ ...body, attributes: { latency: 5, jitter: 0 } });
    expect(updated.attributes.latency).toBe(5);
    await updated.remove();
    expect(await quickestRoundTrip(socket, 5)).toBeLessThan(75);

    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: echo.address });
    expect(disabled.enabled).toBe(false);
    await toxiproxy.reset();
    expect((await toxiproxy.get("compat")).enabled).toBe(true);

    const all = await toxiproxy.getAll();
    expect(Object.keys(all).sort()).toEqual(["compat", "other"]);
    await all.other!.remove();
    await expect(toxiproxy.get("other")).rejects.toThrow("404");
    socket.destroy();
  });
});

import type { ProxyConfig } from "../../../src/proxy/server.js";

/**
 * The sample app as containers, one definition for both ways of running it: `startContainerStack` (tests,
 * any base port) and compose.yaml (a user's Docker, base port 17000; a test checks the two agree). Every
 * container uses the host's network, so the ports are those of the process stack (see ../README.md) and
 * every byte stays on loopback.
 */

export const CONTAINER_SERVICES = ["proxy", "gateway", "payments", "orders", "web", "loadgen"] as const;
export type ContainerService = (typeof CONTAINER_SERVICES)[number];

export interface ServiceSpec {
  service: ContainerService;
  command: string[];
  env: Record<string, string>;
  /** payments has one, so that an experiment can kill it and watch the engine bring it back. */
  restart: "no" | "always";
}

/** Where the proxy's configuration is mounted inside its container. */
export const PROXY_CONFIG_PATH = "/etc/chaoskit/proxies.json";

const HOST = "127.0.0.1";

/** The embedded proxy's proxies: one per link, as in the process stack. */
export function proxiesAt(basePort: number): ProxyConfig[] {
  const link = (name: string, offset: number, upstream: number) => ({
    name,
    listen: `${HOST}:${basePort + offset}`,
    upstream: `${HOST}:${basePort + upstream}`,
  });
  return [link("web-orders", 11, 1), link("orders-payments", 12, 2), link("payments-gateway", 13, 3)];
}

const node = (service: string) => ["node", `dist/examples/target-app/services/${service}.js`];

/**
 * Every container of the app, in start order (the proxy first, the load generator last).
 * @param rate checkouts per second of the load generator.
 */
export function serviceSpecs(basePort: number, fragile: string, rate = 20): ServiceSpec[] {
  const url = (offset: number) => `http://${HOST}:${basePort + offset}`;
  const common = { FRAGILE: fragile };
  return [
    {
      service: "proxy",
      command: [
        "node",
        "dist/src/cli/main.js",
        "proxy",
        "--host",
        HOST,
        "--port",
        String(basePort + 10),
        "--config",
        PROXY_CONFIG_PATH,
        "--metrics",
        "--log-level",
        "warn",
      ],
      env: {},
      restart: "no",
    },
    {
      service: "gateway",
      command: node("gateway"),
      env: { ...common, PORT: String(basePort + 3) },
      restart: "no",
    },
    {
      service: "payments",
      command: node("payments"),
      env: { ...common, PORT: String(basePort + 2), GATEWAY_URL: url(13) },
      restart: "always",
    },
    {
      service: "orders",
      command: node("orders"),
      env: { ...common, PORT: String(basePort + 1), PAYMENTS_URL: url(12) },
      restart: "no",
    },
    {
      service: "web",
      command: node("web"),
      env: { ...common, PORT: String(basePort), ORDERS_URL: url(11) },
      restart: "no",
    },
    {
      service: "loadgen",
      command: node("loadgen"),
      env: { ...common, PORT: String(basePort + 4), TARGET_URL: url(0), RATE: String(rate) },
      restart: "no",
    },
  ];
}

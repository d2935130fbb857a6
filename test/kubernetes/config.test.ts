import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadClient } from "../../src/agents/kubernetes/client.js";
import { loadKubeConfig, readConfig } from "../../src/agents/kubernetes/config.js";
import { writeKubeconfig } from "../support/kube-api/kubeconfig.js";

const KEYS = ["KUBECONFIG", "HOME", "KUBERNETES_SERVICE_HOST"] as const;
const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-kubeconfig-"));
});

afterEach(async () => {
  // Key by key: replacing process.env itself would cut it off from the real environment.
  for (const k of KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await rm(dir, { recursive: true, force: true });
});

describe("where the agent finds its cluster", () => {
  it("uses the kubeconfig the experiment names, and its context", async () => {
    const file = await writeKubeconfig(dir, "http://127.0.0.1:1", "t", "staging");
    const kc = loadKubeConfig(await loadClient(), file, "staging");
    expect(kc.getCurrentCluster()?.server).toBe("http://127.0.0.1:1");
  });

  it("falls back to $KUBECONFIG, then ~/.kube/config", async () => {
    const file = await writeKubeconfig(dir, "http://127.0.0.1:2", "t");
    process.env.KUBECONFIG = file;
    expect(loadKubeConfig(await loadClient(), undefined, undefined).getCurrentCluster()?.server).toBe(
      "http://127.0.0.1:2",
    );
    delete process.env.KUBECONFIG;
    process.env.HOME = dir;
    await writeKubeconfig(dir, "http://127.0.0.1:3", "t");
    await mkdir(join(dir, ".kube"));
    await rename(join(dir, "kubeconfig.yaml"), join(dir, ".kube", "config"));
    expect(loadKubeConfig(await loadClient(), undefined, undefined).getCurrentCluster()?.server).toBe(
      "http://127.0.0.1:3",
    );
  });

  it("says so when there is no configuration at all, outside a cluster", async () => {
    delete process.env.KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    process.env.HOME = dir;
    const lib = await loadClient();
    expect(() => loadKubeConfig(lib, undefined, undefined)).toThrow("no Kubernetes configuration found");
  });

  it("adds configured protected namespaces to the built-in ones", () => {
    expect(readConfig({ kubernetes: { "protected-namespaces": ["payments"] } }).protectedNamespaces).toEqual([
      "kube-system",
      "kube-public",
      "kube-node-lease",
      "payments",
    ]);
    expect(readConfig({}).callTimeoutMs).toBe(10_000);
  });
});

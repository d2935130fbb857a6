import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentContext } from "../../src/agents/agent.js";
import { testContext } from "../support/agent-context.js";
import { writeKubeconfig } from "../support/kube-api/kubeconfig.js";
import { KubeApiServer, type KubeApiServerOptions } from "../support/kube-api/server.js";

/** A test API server, a kubeconfig pointing at it, and a scratch folder; `stop()` removes all three. */
export interface TestCluster {
  api: KubeApiServer;
  dir: string;
  kubeconfig: string;
  /** An agent context whose configuration names the kubeconfig, as an experiment's would. */
  context(overrides?: Partial<AgentContext> & { kubernetes?: Record<string, unknown> }): AgentContext & {
    dispose(): Promise<void>;
  };
  stop(): Promise<void>;
}

export async function startTestCluster(opts: KubeApiServerOptions = {}): Promise<TestCluster> {
  const api = await new KubeApiServer(opts).start();
  const dir = await mkdtemp(join(tmpdir(), "chaos-kube-"));
  const kubeconfig = await writeKubeconfig(dir, api.url, api.token);
  const contexts: { dispose(): Promise<void> }[] = [];
  return {
    api,
    dir,
    kubeconfig,
    context({ kubernetes, ...overrides } = {}) {
      const ctx = testContext({
        configuration: { kubernetes: { kubeconfig, ...kubernetes } },
        ...overrides,
      });
      contexts.push(ctx);
      return ctx;
    },
    async stop() {
      for (const c of contexts) await c.dispose();
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns true, for at most `ms`. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

import type {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
} from "@kubernetes/client-node";
import { ChaosError } from "../../experiments/errors.js";
import type { AgentContext } from "../agent.js";
import { type CallSpec, type ConnectionPool, kubeCall, type RequestOptions } from "./call.js";
import { type KubeClient, loadClient } from "./client.js";
import { type ClusterRef, type KubernetesConfig, loadKubeConfig, readConfig } from "./config.js";

/** The run's view of one cluster: typed API clients and the settings every call obeys. */
export class Cluster {
  private readonly pool: ConnectionPool;
  /** The loaded kubeconfig, for the calls that are not REST (pods/exec's WebSocket). */
  kubeConfig?: KubeConfig;

  constructor(
    readonly lib: KubeClient,
    readonly ref: ClusterRef,
    readonly core: CoreV1Api,
    readonly apps: AppsV1Api,
    readonly networking: NetworkingV1Api,
    readonly autoscaling: AutoscalingV2Api,
    readonly config: KubernetesConfig,
    /**
     * The credentials can change under the run (an exec plugin or auth provider refreshing a client
     * certificate): each request then gets the connection the client builds for it, never a kept one that
     * still presents the first certificate.
     */
    refreshingCredentials = false,
  ) {
    this.pool = { disabled: refreshingCredentials };
  }

  /** Closes the kept-alive connections; called when the run's resources are disposed. */
  async close(): Promise<void> {
    await this.pool.dispatcher?.close();
  }

  /** A lease key for the controller: "kubernetes:<server>:pod/<namespace>/<name>". */
  lockKey(kind: string, namespace: string | undefined, name: string): string {
    return `kubernetes:${this.ref.server}:${kind}/${namespace ? `${namespace}/` : ""}${name}`;
  }

  /** One API call with this cluster's deadline, the caller's signal, retries and error wrapping. */
  call<T>(
    spec: CallSpec,
    signal: AbortSignal,
    fn: (options: RequestOptions) => Promise<T>,
    headers?: Record<string, string>,
    tries?: number,
  ): Promise<T> {
    return kubeCall(
      spec,
      { lib: this.lib, pool: this.pool, signal, timeoutMs: this.config.callTimeoutMs, headers, tries },
      fn,
    );
  }

  /** One API call whose answer is text (a pod's log), with the same deadline, retries and errors. */
  callText(
    spec: CallSpec,
    signal: AbortSignal,
    fn: (options: RequestOptions) => Promise<string>,
  ): Promise<string> {
    return kubeCall(
      spec,
      { lib: this.lib, pool: this.pool, signal, timeoutMs: this.config.callTimeoutMs, text: true },
      fn,
    );
  }
}

async function connect(ref: Omit<ClusterRef, "server">, config: KubernetesConfig): Promise<Cluster> {
  const lib = await loadClient();
  const kc = loadKubeConfig(lib, ref.kubeconfig, ref.context);
  const server = kc.getCurrentCluster()!.server;
  const user = kc.getCurrentUser();
  const c = new Cluster(
    lib,
    { ...ref, server, context: ref.context ?? kc.getCurrentContext() },
    kc.makeApiClient(lib.CoreV1Api),
    kc.makeApiClient(lib.AppsV1Api),
    kc.makeApiClient(lib.NetworkingV1Api),
    kc.makeApiClient(lib.AutoscalingV2Api),
    config,
    Boolean(user?.exec || user?.authProvider),
  );
  c.kubeConfig = kc;
  return c;
}

/**
 * The cluster the experiment configures, created once per run.
 * @throws ChaosError("agent") when no kubeconfig can be loaded.
 */
export function cluster(ctx: AgentContext): Promise<Cluster> {
  const config = readConfig(ctx.configuration);
  return ctx.resources.use(
    `kubernetes:${config.kubeconfig ?? ""}:${config.context ?? ""}`,
    async () => connect({ kubeconfig: config.kubeconfig, context: config.context }, config),
    (c) => c.close(),
  );
}

/**
 * The cluster a recorded fault was applied to, from the revert data alone (`chaos rollback` has no
 * experiment configuration).
 * @throws ChaosError("agent") when the recorded kubeconfig now points at another API server.
 */
export function clusterFor(ref: ClusterRef, ctx: AgentContext): Promise<Cluster> {
  return ctx.resources.use(
    `kubernetes:${ref.kubeconfig ?? ""}:${ref.context ?? ""}:${ref.server}`,
    async () => {
      const c = await connect(ref, readConfig(ctx.configuration));
      if (c.ref.server !== ref.server) {
        throw new ChaosError(
          "agent",
          `the fault was applied through ${ref.server}, but the kubeconfig now points at ${c.ref.server}`,
          {
            hint: "switch the kubeconfig (or KUBECONFIG) back to that cluster, then run chaos rollback again",
          },
        );
      }
      return c;
    },
    (c) => c.close(),
  );
}

import { Writable } from "node:stream";
import type { V1Status } from "@kubernetes/client-node";
import { KubeApiError } from "./call.js";
import type { Cluster } from "./cluster.js";

/**
 * A command in a container through pods/exec, as `kubectl exec` runs it: a WebSocket (v5/v4.channel.k8s.io)
 * whose status channel carries the exit code. Bounded by the cluster's call timeout and the run's signal.
 * @throws KubeApiError naming the pod and container when the upgrade is refused (with its HTTP status), the
 * exec does not finish in time, or the command exits non-zero.
 */
export async function execIn(
  c: Cluster,
  where: { namespace: string; pod: string; container: string },
  command: string[],
  signal: AbortSignal,
): Promise<{ stdout: string }> {
  const what = `exec ${JSON.stringify(command.join(" "))} in container ${where.container} of pod ${where.namespace}/${where.pod}`;
  if (!c.kubeConfig) throw new KubeApiError(undefined, `kubernetes: ${what}: no kubeconfig loaded`, {});
  const exec = new c.lib.Exec(c.kubeConfig);
  let stdout = "";
  const sink = new Writable({
    write(chunk, _enc, done) {
      stdout += String(chunk);
      done();
    },
  });
  const timeoutMs = c.config.callTimeoutMs;
  return new Promise((resolve, reject) => {
    let status: V1Status | undefined;
    let socket: { close(): void; terminate?(): void } | undefined;
    const fail = (status: number | undefined, message: string, hint: string) => {
      cleanup();
      socket?.terminate?.();
      reject(new KubeApiError(status, `kubernetes: ${what}: ${message}`, { hint }));
    };
    const timer = setTimeout(
      () =>
        fail(
          undefined,
          `no answer within ${timeoutMs} ms`,
          "check the API server and the kubelet of the pod's node",
        ),
      timeoutMs,
    );
    const onAbort = () => fail(undefined, "cancelled", "the run was aborted");
    signal.addEventListener("abort", onAbort, { once: true });
    function cleanup() {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
    exec
      .exec(where.namespace, where.pod, where.container, command, sink, null, null, false, (s) => {
        status = s;
      })
      .then((ws) => {
        socket = ws;
        ws.on("close", () => {
          cleanup();
          if (status?.status === "Success") return resolve({ stdout });
          const code = status?.details?.causes?.find((x) => x.reason === "ExitCode")?.message;
          reject(
            new KubeApiError(
              undefined,
              `kubernetes: ${what}: ${status ? (status.message ?? `exit code ${code ?? "unknown"}`) : "the connection closed without a status"}`,
              { hint: "the container may have stopped meanwhile; check it with kubectl describe pod" },
            ),
          );
        });
      })
      .catch((err: Error) => {
        // ws reports a refused upgrade as "Unexpected server response: 403".
        const m = /Unexpected server response: (\d+)/.exec(err?.message ?? "");
        const code = m ? Number(m[1]) : undefined;
        fail(
          code,
          code ? `the API server answered ${code}` : (err?.message ?? String(err)),
          code === 403
            ? 'grant the verbs "get" and "create" on "pods/exec" (see deploy/rbac.yaml)'
            : "check that the pod and its container are running",
        );
      });
  });
}

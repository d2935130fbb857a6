/**
 * @kubernetes/client-node, loaded on first use: it is large, and every other command (validate, plan of a
 * non-Kubernetes experiment, --version) should not pay for loading it.
 */
export type KubeClient = typeof import("@kubernetes/client-node");

let loading: Promise<KubeClient> | undefined;

/** The client library; the import happens once per process. Rejects when it cannot be loaded. */
export function loadClient(): Promise<KubeClient> {
  loading ??= import("@kubernetes/client-node");
  return loading;
}

/** The content types of the three kinds of PATCH the API server accepts (as the client names them). */
export const PATCH = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
} as const;

/**
 * @kubernetes/client-node, loaded on first use: it is large, and every other command (validate, plan of a
 * non-Kubernetes experiment, --version) should not pay for loading it.
 */
import { setFlagsFromString } from "node:v8";

export type KubeClient = typeof import("@kubernetes/client-node");

let loading: Promise<KubeClient> | undefined;

/** The client library; the import happens once per process. Rejects when it cannot be loaded. */
export function loadClient(): Promise<KubeClient> {
  if (!loading) {
    // The client turns every answer into model objects: a thousand deletes or twenty pages of pods leave
    // tens of MB of garbage, which V8's default heap growth lets pile up before a full collection (a run
    // killing 1,000 of 10,000 pods peaked at about 220 MB RSS with 47 MB live). Collecting earlier keeps the
    // peak near 160 MB for some 15% more CPU; `npm run bench` measures both.
    setFlagsFromString("--optimize-for-size");
    loading = import("@kubernetes/client-node");
  }
  return loading;
}

/** The content types of the three kinds of PATCH the API server accepts (as the client names them). */
export const PATCH = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
} as const;

import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Writes a kubeconfig for the test API server, the way a cluster's admin would hand one out: one cluster
 * (plain HTTP on loopback, so TLS verification is off), one token user, one context.
 * @returns the file's path.
 */
export async function writeKubeconfig(
  dir: string,
  server: string,
  token: string,
  context = "test",
): Promise<string> {
  const path = join(dir, "kubeconfig.yaml");
  await writeFile(
    path,
    `apiVersion: v1
kind: Config
clusters:
  - name: ${context}-cluster
    cluster:
      server: ${server}
      insecure-skip-tls-verify: true
users:
  - name: ${context}-user
    user:
      token: ${token}
contexts:
  - name: ${context}
    context: { cluster: ${context}-cluster, user: ${context}-user }
current-context: ${context}
`,
  );
  return path;
}

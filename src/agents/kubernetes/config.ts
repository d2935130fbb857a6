import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { DURATION_PATTERN, parseDuration } from "../../experiments/duration.js";
import { ChaosError } from "../../experiments/errors.js";
import type { JsonSchema } from "../agent.js";
import type { KubeClient } from "./client.js";

/** Namespaces no action touches unless a target sets `allow-protected: true`. */
export const DEFAULT_PROTECTED = ["kube-system", "kube-public", "kube-node-lease"];

/** How long one API call may take before the run gives up on it (exit 4). */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** JSON Schema of `configuration.kubernetes` in an experiment. */
export const configurationSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  description:
    "Which cluster to talk to; without it: $KUBECONFIG, ~/.kube/config, then the in-cluster account",
  properties: {
    kubeconfig: { type: "string", minLength: 1, description: "path of a kubeconfig file" },
    context: {
      type: "string",
      minLength: 1,
      description: "a context of that kubeconfig (default: its current one)",
    },
    "protected-namespaces": {
      type: "array",
      items: { type: "string", minLength: 1 },
      description: `refused unless a target sets allow-protected: true, in addition to ${DEFAULT_PROTECTED.join(", ")}`,
    },
    "call-timeout": {
      type: "string",
      pattern: DURATION_PATTERN,
      description: "how long one API call may take, e.g. 10s (the default)",
    },
  },
};

/**
 * Where the cluster came from. Written into every revert, so `chaos rollback` in a fresh process (which has
 * no experiment configuration) reaches the same cluster, and refuses another one. Paths and names only:
 * never credentials.
 */
export interface ClusterRef {
  kubeconfig?: string;
  context?: string;
  /** The API server URL the fault was applied through. */
  server: string;
}

export interface KubernetesConfig {
  kubeconfig?: string;
  context?: string;
  protectedNamespaces: string[];
  callTimeoutMs: number;
}

/**
 * Reads `configuration.kubernetes` (already validated by the schema; a revert may run with none).
 * @throws ChaosError("invalid") when it is present but not an object.
 */
export function readConfig(configuration: Record<string, unknown>): KubernetesConfig {
  const raw = configuration.kubernetes ?? {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ChaosError("invalid", "configuration.kubernetes must be an object", {
      hint: "give it kubeconfig, context or protected-namespaces",
    });
  }
  const r = raw as Record<string, unknown>;
  const extra = Array.isArray(r["protected-namespaces"]) ? (r["protected-namespaces"] as string[]) : [];
  return {
    kubeconfig: typeof r.kubeconfig === "string" ? r.kubeconfig : undefined,
    context: typeof r.context === "string" ? r.context : undefined,
    protectedNamespaces: [...new Set([...DEFAULT_PROTECTED, ...extra])],
    callTimeoutMs:
      typeof r["call-timeout"] === "string" ? parseDuration(r["call-timeout"]) : DEFAULT_CALL_TIMEOUT_MS,
  };
}

function load(what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw new ChaosError(
      "agent",
      `cannot load the Kubernetes configuration from ${what}: ${(err as Error).message}`,
      {
        cause: err,
        hint: "check configuration.kubernetes.kubeconfig, $KUBECONFIG or ~/.kube/config",
      },
    );
  }
}

/**
 * $KUBECONFIG's files merged as kubectl merges them (client-go's loading rules): the first file to set
 * `current-context` wins, and so does the first definition of each cluster, user and context name; files
 * that do not exist are skipped. (The client library lets a later file's `current-context` win and throws on
 * a name defined twice, so a run could act on another cluster than `kubectl` shows.)
 * @throws Error when no listed file exists or one cannot be parsed.
 */
function loadKubeconfigList(lib: KubeClient, kc: KubeConfig, list: string): void {
  const files = list.split(delimiter).filter((f) => f && existsSync(f));
  if (files.length === 0) throw new Error(`none of its files exists (${list})`);
  const clusters = new Map<string, KubeConfig["clusters"][number]>();
  const users = new Map<string, KubeConfig["users"][number]>();
  const contexts = new Map<string, KubeConfig["contexts"][number]>();
  let currentContext = "";
  for (const file of files) {
    const one = new lib.KubeConfig();
    one.loadFromFile(file); // makes the file's relative certificate paths absolute
    for (const c of one.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of one.users) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of one.contexts) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!currentContext && one.currentContext) currentContext = one.currentContext;
  }
  kc.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  });
}

/**
 * Loads the kubeconfig the experiment names, else $KUBECONFIG (merged as kubectl merges it), else ~/.kube/config, else the in-cluster
 * service account; then switches to `context` when one is given.
 * @throws ChaosError("agent") when none of them exists, a file cannot be parsed, or the context is unknown.
 */
export function loadKubeConfig(
  lib: KubeClient,
  kubeconfig: string | undefined,
  context: string | undefined,
): KubeConfig {
  const kc = new lib.KubeConfig();
  const home = join(homedir(), ".kube", "config");
  if (kubeconfig) load(kubeconfig, () => kc.loadFromFile(kubeconfig));
  else if (process.env.KUBECONFIG) {
    const list = process.env.KUBECONFIG;
    load("$KUBECONFIG", () => loadKubeconfigList(lib, kc, list));
  } else if (existsSync(home)) load(home, () => kc.loadFromFile(home));
  else if (process.env.KUBERNETES_SERVICE_HOST)
    load("the in-cluster service account", () => kc.loadFromCluster());
  else {
    throw new ChaosError("agent", "no Kubernetes configuration found", {
      hint: "set configuration.kubernetes.kubeconfig or $KUBECONFIG, create ~/.kube/config, or run inside a cluster",
    });
  }
  if (context) {
    if (!kc.getContextObject(context)) {
      throw new ChaosError("agent", `the kubeconfig has no context "${context}"`, {
        hint: `known contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(", ") || "none"
        }`,
      });
    }
    kc.setCurrentContext(context);
  }
  const current = kc.getCurrentCluster();
  if (!current) {
    throw new ChaosError("agent", "the kubeconfig's current context names no cluster", {
      hint: "set configuration.kubernetes.context to a context with a cluster",
    });
  }
  // The kubeconfig's own proxy-url wins; else the environment's, as kubectl (Go's ProxyFromEnvironment) does.
  const proxyUrl = current.proxyUrl ?? proxyFromEnvironment(current.server, process.env);
  if (proxyUrl) {
    kc.clusters = kc.clusters.map((c) => (c.name === current.name ? { ...c, proxyUrl } : c));
  }
  return kc;
}

/**
 * The proxy for `server` from HTTPS_PROXY / HTTP_PROXY (either case), unless NO_PROXY exempts its host:
 * `*`, a host name (matching its subdomains too, with or without a leading dot), an IP address, an IPv4
 * CIDR, each optionally with `:port`. As Go's golang.org/x/net/http/httpproxy reads them.
 */
export function proxyFromEnvironment(server: string, env: NodeJS.ProcessEnv): string | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return undefined;
  }
  const pick = (name: string) => env[name] || env[name.toLowerCase()] || undefined;
  const proxy = url.protocol === "https:" ? pick("HTTPS_PROXY") : pick("HTTP_PROXY");
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  for (const raw of (pick("NO_PROXY") ?? "").split(",")) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return undefined;
    const [name, entryPort] = entry.includes("/") ? [entry, undefined] : splitPort(entry);
    if (entryPort && entryPort !== port) continue;
    if (
      name.includes("/")
        ? inCidr(host, name)
        : host === name.replace(/^\./, "") || host.endsWith(name.startsWith(".") ? name : `.${name}`)
    ) {
      return undefined;
    }
  }
  return proxy;
}

function splitPort(entry: string): [string, string | undefined] {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
  return m ? [m[1]!.replace(/^\[|\]$/g, ""), m[2]] : [entry, undefined];
}

function inCidr(host: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const toInt = (ip: string) => {
    const parts = ip.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  };
  const a = toInt(host);
  const b = toInt(base ?? "");
  const bits = Number(bitsText);
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

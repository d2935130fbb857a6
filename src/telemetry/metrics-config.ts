import type { Experiment } from "../experiments/model.js";
import type { UserSettings } from "./settings.js";

/** Where a run's metrics are pushed, and how long a push may take. */
export interface MetricsConfig {
  /** The Pushgateway's base URL, as given (credentials included, for the request only). */
  url: string;
  /** The same without credentials or query: what notes and logs may show. */
  shownTarget: string;
  /** How long one push may take, and the last push when the run ends. */
  timeoutMs: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * The Pushgateway of a run: `CHAOS_PUSHGATEWAY_URL`, else the experiment's `metrics.pushgateway`, else the
 * settings file's; undefined when none is given (nothing is loaded, nothing is pushed).
 */
export function metricsConfig(
  env: NodeJS.ProcessEnv,
  experiment: Pick<Experiment, "metrics">,
  settings: UserSettings,
): MetricsConfig | undefined {
  const url =
    env.CHAOS_PUSHGATEWAY_URL?.trim() || experiment.metrics?.pushgateway || settings.metrics?.pushgateway;
  if (!url) return undefined;
  const timeout = Number(env.CHAOS_PUSHGATEWAY_TIMEOUT_MS);
  return {
    url,
    shownTarget: shownUrl(url),
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_MS,
  };
}

/** A URL without userinfo, query or fragment: safe to show. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString();
  } catch {
    return "(an invalid URL)";
  }
}

/**
 * The request parts of a URL that may carry `user:password@`: fetch refuses userinfo, so it becomes a
 * basic Authorization header.
 * @throws TypeError when `url` is not a URL.
 */
export function requestParts(url: string): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  if (u.username || u.password) {
    const user = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString("base64")}`;
    u.username = "";
    u.password = "";
  }
  return { url: u.toString(), headers };
}

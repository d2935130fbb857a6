import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { parse } from "yaml";
import { ChaosError } from "../experiments/errors.js";
import { SecretTemplate } from "../experiments/interpolate.js";
import type { NotificationTarget } from "../experiments/model.js";

/**
 * The user's settings file, shared by every run: `$XDG_CONFIG_HOME/chaoskit/settings.yaml` (else
 * `~/.config/chaoskit/settings.yaml`).
 *
 *   metrics: { pushgateway: http://pushgateway:9091 }
 *   notifications:
 *     - { webhook: https://hooks.example/chaos, secret: "..." }
 *     - { slack: https://hooks.slack.com/services/..., report-url: https://ci.example/chaos }
 */
export interface UserSettings {
  metrics?: { pushgateway?: string };
  notifications?: NotificationTarget[];
}

/** Where the settings file is looked for. */
export function settingsPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), ".config");
  return join(base, "chaoskit", "settings.yaml");
}

/**
 * Reads the user's settings. A file that is absent, or that this user cannot read (a CLI run as another
 * user with someone else's HOME), is no settings at all: it is said once in the log and the run goes on.
 * @throws ChaosError("invalid") when the file can be read but says something wrong.
 */
export async function readUserSettings(env: NodeJS.ProcessEnv, log: Logger): Promise<UserSettings> {
  const path = settingsPath(env);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR")
      log.warn({ path, code: code ?? String(err) }, "the settings file cannot be read: ignored");
    return {};
  }
  const invalid = (what: string) =>
    new ChaosError("invalid", `${path}: ${what}`, {
      hint: "see the README, `Settings file`, or remove the file",
    });
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw invalid(`not YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (!isObj(data)) throw invalid("expected a mapping of settings");
  const settings: UserSettings = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === "metrics") {
      if (!isObj(value) || !isUrl(value.pushgateway) || Object.keys(value).some((k) => k !== "pushgateway"))
        throw invalid("metrics: expected { pushgateway: http(s)://… }");
      settings.metrics = { pushgateway: value.pushgateway as string };
    } else if (key === "notifications") {
      if (!Array.isArray(value)) throw invalid("notifications: expected a list");
      const problems: string[] = [];
      settings.notifications = notificationTargets(value, problems);
      if (problems.length) throw invalid(`notifications: ${problems.join("; ")}`);
    } else {
      throw invalid(`unknown setting "${key}" (known: metrics, notifications)`);
    }
  }
  return settings;
}

/**
 * The notification targets of a list (from the experiment, which its schema checked, or the settings file);
 * entries that are not one are named in `problems` and left out.
 */
export function notificationTargets(list: unknown[], problems: string[] = []): NotificationTarget[] {
  const out: NotificationTarget[] = [];
  list.forEach((entry, i) => {
    const keys = isObj(entry) ? Object.keys(entry) : [];
    if (isObj(entry) && isUrl(entry.webhook) && keys.every((k) => k === "webhook" || k === "secret")) {
      const secret = entry.secret;
      if (secret !== undefined && typeof secret !== "string" && !(secret instanceof SecretTemplate)) {
        problems.push(`entry ${i + 1}: secret must be a string`);
        return;
      }
      out.push({ webhook: entry.webhook as string, ...(secret === undefined ? {} : { secret }) });
    } else if (isObj(entry) && isUrl(entry.slack) && keys.every((k) => k === "slack" || k === "report-url")) {
      const base = entry["report-url"];
      out.push({ slack: entry.slack as string, ...(typeof base === "string" ? { reportUrl: base } : {}) });
    } else {
      problems.push(`entry ${i + 1}: expected { webhook: URL, secret: … } or { slack: URL }`);
    }
  });
  return out;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isUrl(v: unknown): v is string {
  return typeof v === "string" && /^https?:\/\/./.test(v);
}

import { durationSchema, formatDuration, parseDuration } from "../../experiments/duration.js";
import type { JsonSchema } from "../agent.js";
import { toxicAction } from "./toxic-action.js";

// HTTP faults per request, through the proxy's http_* toxics (chaoskit's proxy only; see http-support.ts).

const ms = (value: unknown, fallback = 0): number =>
  value === undefined ? fallback : Math.round(parseDuration(value));
const headersSchema = (description: string): JsonSchema => ({
  type: "object",
  additionalProperties: { type: "string" },
  description,
});
const where = (a: Record<string, unknown>): string => {
  const m = a.match as { method?: string | string[]; path?: string; path_prefix?: string } | undefined;
  const method = Array.isArray(m?.method) ? m.method.join("|") : m?.method;
  const path = m?.path ?? (m?.path_prefix ? `${m.path_prefix}…` : undefined);
  const text = [method, path].filter(Boolean).join(" ");
  return text ? ` on ${text}` : "";
};

export const httpStatusAction = toxicAction({
  name: "http-status",
  type: "http_status",
  perRequest: true,
  description: "answer matching requests with `status` (and `headers`, `body`) instead of the upstream",
  args: {
    status: { type: "integer", minimum: 200, maximum: 599, description: "the status to answer, e.g. 503" },
    headers: headersSchema("headers of the answer, e.g. { retry-after: '1' }"),
    body: { type: "string", description: "body of the answer (default empty)" },
  },
  required: ["status"],
  defaultStream: "upstream",
  attributes: (a) => ({ status: a.status, headers: a.headers ?? {}, body: a.body ?? "" }),
  label: (a) => `http-status ${a.status}${where(a)}`,
});

export const httpDelayAction = toxicAction({
  name: "http-delay",
  type: "http_delay",
  perRequest: true,
  description: "hold matching requests (upstream) or their responses (downstream) for `latency` ± `jitter`",
  args: {
    latency: { ...durationSchema, description: "added delay, e.g. 2s" },
    jitter: { ...durationSchema, description: "random spread ±, default 0" },
  },
  required: ["latency"],
  attributes: (a) => ({ latency: ms(a.latency), jitter: ms(a.jitter) }),
  label: (a) => `http-delay ${formatDuration(ms(a.latency))}${where(a)}`,
});

export const httpAbortAction = toxicAction({
  name: "http-abort",
  type: "http_abort",
  perRequest: true,
  description:
    "close the connection when a matching request arrives (upstream), or after `after` bytes of its response (downstream); `reset` sends a TCP RST",
  args: {
    reset: { type: "boolean", description: "a TCP RST instead of a close (default false)" },
    after: { type: "integer", minimum: 0, description: "bytes let through before the abort (default 0)" },
  },
  defaultStream: "upstream",
  attributes: (a) => ({ reset: a.reset ?? false, after: a.after ?? 0 }),
  label: (a) => `http-abort${a.reset ? " (reset)" : ""}${where(a)}`,
});

export const httpHeaderAction = toxicAction({
  name: "http-header",
  type: "http_header",
  perRequest: true,
  description: "set, add or remove headers of matching requests (upstream) or their responses (downstream)",
  args: {
    set: headersSchema("headers to replace (or add), by name"),
    add: headersSchema("headers to add, even when present"),
    remove: { type: "array", items: { type: "string", minLength: 1 }, description: "header names to remove" },
  },
  attributes: (a) => ({ set: a.set ?? {}, add: a.add ?? {}, remove: a.remove ?? [] }),
  label: (a) => `http-header${where(a)}`,
});

export const httpBodyAction = toxicAction({
  name: "http-body",
  type: "http_body",
  perRequest: true,
  description: "replace the body of matching responses (downstream) or requests (upstream)",
  args: {
    body: { type: "string", description: "the body sent instead" },
    content_type: { type: "string", description: "Content-Type to send with it (default: unchanged)" },
  },
  required: ["body"],
  attributes: (a) => ({ body: a.body, content_type: a.content_type ?? "" }),
  label: (a) => `http-body${where(a)}`,
});

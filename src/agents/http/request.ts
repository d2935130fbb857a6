import { durationOf, parseDuration } from "../../experiments/duration.js";
import { ChaosError, NoAnswerError } from "../../experiments/errors.js";
import { redactThenCut } from "../../experiments/redact.js";
import type { AgentContext, ProbeDefinition, ProbeResult } from "../agent.js";
import { type JsonPathSegment, JsonPathSyntaxError, parseJsonPath, selectJsonPath } from "./json-path.js";
import { displayUrl, isSensitiveHeader, scrub } from "./redact.js";
import { RequestFailure, sendRequest } from "./send.js";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
const DEFAULT_TIMEOUT = "5s";
const DEFAULT_BODY_MAX = 1024 * 1024;
/** The journal keeps only the start of a body: enough to see what came back. */
const BODY_FIELD_BYTES = 4096;

export const requestArgsSchema = {
  type: "object",
  additionalProperties: false,
  required: ["url"],
  properties: {
    url: { type: "string", pattern: "^[Hh][Tt][Tt][Pp][Ss]?://", description: "an http:// or https:// URL" },
    method: { enum: [...METHODS], default: "GET" },
    headers: {
      type: "object",
      propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
      additionalProperties: { type: "string" },
      description: "request headers; their values never appear in errors or summaries",
    },
    body: {
      anyOf: [{ type: "string" }, { type: "object" }, { type: "array" }],
      description: "a string is sent as is; an object or array is sent as JSON",
    },
    timeout: { ...durationOf("timeout"), default: DEFAULT_TIMEOUT },
    "json-path": {
      type: "string",
      pattern: "^\\$",
      description: "judge this value of the JSON body instead of the status: $.a.b, $.a[0], $['a b']",
    },
    insecure: { type: "boolean", default: false, description: "skip TLS certificate verification" },
    "expect-body-max": {
      type: "integer",
      minimum: 1,
      default: DEFAULT_BODY_MAX,
      description: "read at most this many bytes of the body",
    },
  },
} as const;

interface RequestArgs {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  jsonPath?: { expression: string; segments: JsonPathSegment[] };
  insecure: boolean;
  bodyMax: number;
}

/**
 * Reads validated probe arguments, applying defaults.
 * @throws ChaosError("invalid") for a URL that is not http(s) or a json-path outside the supported subset.
 */
function readArgs(args: Record<string, unknown>): RequestArgs {
  let url: URL;
  try {
    url = new URL(String(args.url));
  } catch {
    throw new ChaosError("invalid", `not a URL: ${JSON.stringify(args.url)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ChaosError("invalid", `unsupported URL scheme ${url.protocol}`, {
      hint: "use http:// or https://",
    });
  }
  const headers = { ...((args.headers as Record<string, string> | undefined) ?? {}) };
  let body: string | undefined;
  if (typeof args.body === "string") body = args.body;
  else if (args.body !== undefined) {
    body = JSON.stringify(args.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
      headers["content-type"] = "application/json";
    }
  }
  const expression = args["json-path"] as string | undefined;
  return {
    url,
    method: (args.method as string | undefined) ?? "GET",
    headers,
    body,
    timeoutMs: parseDuration(args.timeout ?? DEFAULT_TIMEOUT, "timeout"),
    jsonPath: expression === undefined ? undefined : { expression, segments: parseJsonPath(expression) },
    insecure: args.insecure === true,
    bodyMax: (args["expect-body-max"] as number | undefined) ?? DEFAULT_BODY_MAX,
  };
}

function short(value: unknown): string {
  return redactThenCut(JSON.stringify(value) ?? String(value), 60, "...");
}

/**
 * Sends one request and reports its status, latency and (with `json-path`) one value of its JSON body.
 * @throws NoAnswerError when no response arrived (connection refused, DNS, TLS, timeout) or, with
 * `json-path`, the body is not JSON: the system under test failed to answer. ChaosError("agent") when the body
 * exceeds `expect-body-max` or the run is stopping. Header values and secrets are scrubbed from the message. ChaosError("invalid") for arguments that the schema could not rule out.
 */
async function runRequest(rawArgs: Record<string, unknown>, ctx: AgentContext): Promise<ProbeResult> {
  const args = readArgs(rawArgs);
  const secrets = Object.values(ctx.secrets);
  const sensitive = [
    ...Object.entries(args.headers)
      .filter(([name]) => isSensitiveHeader(name))
      .map(([, value]) => value),
    ...secrets,
  ];
  // Errors and summaries treat every header value the caller passed as a secret.
  const forText = [...Object.values(args.headers), ...secrets];
  const what = `${args.method} ${displayUrl(args.url)}`;
  const failure = (reason: string, hint?: string, cause?: unknown) =>
    new ChaosError("agent", scrub(`${what} failed: ${reason}`, forText), {
      hint: hint === undefined ? undefined : scrub(hint, forText),
      cause,
    });
  // The system under test not answering (refused, reset, timed out, not HTTP, not JSON) is what was measured.
  const noAnswer = (reason: string, hint?: string, cause?: unknown) =>
    ctx.signal.aborted
      ? failure(reason, hint, cause)
      : new NoAnswerError(scrub(`${what} failed: ${reason}`, forText), {
          hint: hint === undefined ? undefined : scrub(hint, forText),
          cause,
        });

  let response: Awaited<ReturnType<typeof sendRequest>>;
  try {
    response = await sendRequest({
      url: args.url,
      method: args.method,
      // The experiment's own headers win, a traceparent it sets included.
      headers: { ...ctx.traceHeaders, ...args.headers },
      body: args.body,
      timeoutMs: args.timeoutMs,
      insecure: args.insecure,
      bodyMax: args.bodyMax,
      signal: ctx.signal,
    });
  } catch (err) {
    if (err instanceof RequestFailure) throw noAnswer(err.message, err.hint, err.cause);
    throw failure(err instanceof Error ? err.message : String(err));
  }

  const latency = Math.round(response.latencyMs * 10) / 10;
  let value: unknown = response.status;
  if (args.jsonPath) {
    if (response.truncated) {
      throw failure(
        `response body exceeds expect-body-max (${args.bodyMax} bytes), json-path cannot be evaluated`,
        "raise expect-body-max",
      );
    }
    let document: unknown;
    try {
      document = JSON.parse(response.body.toString("utf8"));
    } catch {
      throw noAnswer(`response body is not JSON (status ${response.status}), json-path cannot be evaluated`);
    }
    // A missing path is an empty result, which a tolerance judges explicitly; it is not an error.
    value = selectJsonPath(document, args.jsonPath.segments) ?? null;
  }
  const summary =
    `${response.status} in ${Math.round(response.latencyMs)}ms` +
    (args.jsonPath ? `, ${args.jsonPath.expression} = ${short(value)}` : "");
  ctx.log.debug({ request: scrub(what, forText), status: response.status, latency }, "http probe");
  return {
    value,
    fields: {
      status: response.status,
      latency,
      body: scrub(response.body.subarray(0, BODY_FIELD_BYTES).toString("utf8"), sensitive),
      value,
      // The whole answer, for tolerances that judge it as Chaos Toolkit does (never journaled).
      headers: response.headers,
      text: response.body.toString("utf8"),
    },
    summary: scrub(summary, forText),
  };
}

/** Offline checks beyond the schema: the URL parses and the json-path is in the supported subset. */
function checkRequest(args: Record<string, unknown>) {
  const problems: { path: string[]; message: string; hint?: string; offset?: number }[] = [];
  try {
    const url = new URL(String(args.url));
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      problems.push({
        path: ["url"],
        message: `unsupported URL scheme ${url.protocol}`,
        hint: "use http:// or https://",
      });
    }
  } catch {
    problems.push({ path: ["url"], message: "not a valid URL" });
  }
  if (typeof args["json-path"] === "string") {
    try {
      parseJsonPath(args["json-path"]);
    } catch (err) {
      if (!(err instanceof JsonPathSyntaxError)) throw err;
      problems.push({ path: ["json-path"], message: err.message, hint: err.hint, offset: err.offset });
    }
  }
  return problems;
}

export const requestProbe: ProbeDefinition = {
  name: "request",
  description: "send one HTTP request; value is the status, or the json-path value of the JSON body",
  args: requestArgsSchema,
  run: runRequest,
  check: checkRequest,
};

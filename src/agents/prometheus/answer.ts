import { ChaosError } from "../../experiments/errors.js";
import { redactThenCut } from "../../experiments/redact.js";

/** What the Prometheus HTTP API answers, parsed: the `data` of a success, or the error of its envelope. */

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface RangeSeries {
  labels: Record<string, string>;
  /** [unix seconds, value] */
  points: [number, number][];
}

export type QueryResult =
  | { resultType: "scalar"; value: number }
  | { resultType: "string"; value: string }
  | { resultType: "vector"; series: Sample[] }
  | { resultType: "matrix"; series: RangeSeries[] };

/** Prometheus answered with an error: the `errorType` of its envelope (`bad_data`, `execution`…) or `http`. */
export class PrometheusApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = "PrometheusApiError";
  }
}

export interface HttpAnswer {
  status: number;
  body: string;
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return redactThenCut(flat, 201);
}

/** One line for an HTTP error answer: Prometheus' own error when it sent one, else a snippet. Never throws. */
export function describeHttpError(answer: HttpAnswer): string {
  const parsed = tryJson(answer.body);
  if (isRecord(parsed) && typeof parsed.error === "string") {
    return `HTTP ${answer.status} ${String(parsed.errorType ?? "error")}: ${parsed.error}`;
  }
  return `HTTP ${answer.status}${answer.body ? `: ${snippet(answer.body)}` : ""}`;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Turns one HTTP answer (status < 500) into a result.
 * @throws PrometheusApiError with what Prometheus said (or `bad_response`), ChaosError("invalid") for native
 *   histogram samples, which have no single value to judge.
 */
export function parseEnvelope(answer: HttpAnswer): QueryResult {
  const parsed = tryJson(answer.body);
  if (!isRecord(parsed)) {
    throw new PrometheusApiError(answer.status, "http", describeHttpError(answer));
  }
  if (parsed.status !== "success") {
    const type = typeof parsed.errorType === "string" ? parsed.errorType : "http";
    const message = typeof parsed.error === "string" ? parsed.error : describeHttpError(answer);
    throw new PrometheusApiError(answer.status, type, message);
  }
  return parseData(parsed.data);
}

function badResponse(what: string): PrometheusApiError {
  return new PrometheusApiError(200, "bad_response", `unexpected answer from Prometheus: ${what}`);
}

/**
 * Prometheus writes sample values as strings: "0.5", "NaN", "+Inf", "-Inf".
 * @throws PrometheusApiError("bad_response") for anything else.
 */
export function parseSampleValue(text: unknown): number {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  const n = typeof text === "string" && text.trim() !== "" ? Number(text) : Number.NaN;
  if (Number.isNaN(n)) throw badResponse(`sample value ${JSON.stringify(text)}`);
  return n;
}

function parsePair(pair: unknown): [number, number] {
  if (!Array.isArray(pair) || pair.length !== 2) throw badResponse("a sample is not [time, value]");
  return [Number(pair[0]), parseSampleValue(pair[1])];
}

function labelsOf(entry: Record<string, unknown>): Record<string, string> {
  return isRecord(entry.metric) ? (entry.metric as Record<string, string>) : {};
}

function parseData(data: unknown): QueryResult {
  if (!isRecord(data) || !("result" in data)) throw badResponse("no data.result");
  const result = data.result;
  switch (data.resultType) {
    case "scalar":
      return { resultType: "scalar", value: parsePair(result)[1] };
    case "string":
      return { resultType: "string", value: Array.isArray(result) ? String(result[1]) : String(result) };
    case "vector":
    case "matrix": {
      if (!Array.isArray(result)) throw badResponse(`${data.resultType} result is not a list`);
      const entries = result.filter(isRecord);
      if (entries.some((e) => "histogram" in e || "histograms" in e)) {
        throw new ChaosError(
          "invalid",
          "the query returned native histogram samples, which cannot be judged",
          {
            hint: "reduce them to numbers: histogram_quantile(0.99, …), histogram_count(…), histogram_sum(…)",
          },
        );
      }
      if (data.resultType === "vector") {
        return {
          resultType: "vector",
          series: entries.map((e) => ({ labels: labelsOf(e), value: parsePair(e.value)[1] })),
        };
      }
      return {
        resultType: "matrix",
        series: entries.map((e) => ({
          labels: labelsOf(e),
          points: Array.isArray(e.values) ? e.values.map(parsePair) : [],
        })),
      };
    }
    default:
      throw badResponse(`resultType ${JSON.stringify(data.resultType)}`);
  }
}

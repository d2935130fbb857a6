import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import { parseTolerance, type Tolerance } from "../../src/experiments/tolerance.js";

/**
 * Waits until the sample app is steady for one experiment: every PromQL probe of its steady-state
 * hypothesis passes its tolerance on two polls in a row. Before a run this keeps a fresh Prometheus (no
 * samples yet) or the window of an earlier fault from turning the verdict into "not steady".
 */

interface PromProbe {
  name: string;
  query: string;
  tolerance: Tolerance;
}

async function promProbes(file: string): Promise<PromProbe[]> {
  const doc = parse(await readFile(file, "utf8")) as {
    "steady-state"?: { probes?: Array<Record<string, unknown>> };
  };
  return (doc["steady-state"]?.probes ?? []).flatMap((probe) => {
    const args = probe.prometheus as { query?: unknown } | undefined;
    if (typeof args?.query !== "string" || probe.tolerance === undefined) return [];
    return [{ name: String(probe.name), query: args.query, tolerance: parseTolerance(probe.tolerance) }];
  });
}

/** One instant query reduced to a single value: null when empty, NaN kept. */
async function instantValue(prometheusUrl: string, query: string): Promise<number | null> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query })}`, {
    signal: AbortSignal.timeout(3_000),
  });
  const body = (await res.json()) as {
    data?: { resultType: string; result: unknown };
  };
  const data = body.data;
  if (!data) throw new Error(`Prometheus answered ${res.status} to ${query}`);
  if (data.resultType === "scalar") return Number((data.result as [number, string])[1]);
  const series = data.result as Array<{ value: [number, string] }>;
  if (series.length === 0) return null;
  if (series.length > 1) throw new Error(`${query} returned ${series.length} series; expected one`);
  return Number(series[0]!.value[1]);
}

export interface SteadyOptions {
  prometheusUrl: string;
  /** Default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Resolves once the experiment's PromQL probes pass twice in a row, 1 s apart.
 * @throws Error naming the failing probes and their last values after `timeoutMs`; the signal's reason
 *   when it is aborted; Error for a tolerance the toolkit cannot parse.
 */
export async function waitForSteadyState(file: string, opts: SteadyOptions): Promise<void> {
  const probes = await promProbes(file);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let passes = 0;
  let failing: string[] = [];
  for (;;) {
    opts.signal?.throwIfAborted();
    failing = [];
    for (const probe of probes) {
      try {
        const value = await instantValue(opts.prometheusUrl, probe.query);
        const judged = probe.tolerance.judge({ value });
        if (!judged.ok) failing.push(`${probe.name}: ${judged.reason}`);
      } catch (err) {
        failing.push(`${probe.name}: ${(err as Error).message}`);
      }
    }
    passes = failing.length === 0 ? passes + 1 : 0;
    if (passes >= 2) return;
    if (Date.now() > deadline) {
      throw new Error(`not steady after ${opts.timeoutMs ?? 60_000} ms: ${failing.join("; ")}`);
    }
    await sleep(1_000, undefined, { signal: opts.signal });
  }
}

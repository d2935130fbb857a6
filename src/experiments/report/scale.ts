/** Linear scales and tick choices for the report charts. */

export interface Scale {
  (v: number): number;
  ticks: number[];
}

/** Maps [d0, d1] onto [r0, r1]; a zero-width domain maps to the middle of the range. */
export function linear(d0: number, d1: number, r0: number, r1: number, ticks: number[] = []): Scale {
  const span = d1 - d0;
  const f = ((v: number) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0))) as Scale;
  f.ticks = ticks;
  return f;
}

/** A "nice" domain that contains [lo, hi] and about `count` round ticks (1, 2, 5 × 10^n steps). */
export function niceDomain(lo: number, hi: number, count = 5): { lo: number; hi: number; ticks: number[] } {
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag) as number;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { lo: start, hi: end, ticks };
}

const TIME_STEPS = [
  100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];

/** Tick offsets (ms from the start) for a time axis of `span` ms, at most `max` of them. */
export function timeTicks(span: number, max = 8): number[] {
  const step = TIME_STEPS.find((s) => span / s <= max) ?? Math.ceil(span / max);
  const ticks: number[] = [];
  for (let t = 0; t <= span; t += step) ticks.push(t);
  return ticks;
}

/** An offset from the run's start as a short label: 0s, +1.5s, +2m30s. */
export function offsetLabel(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 60_000) return `+${Number((ms / 1000).toFixed(1))}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `+${h ? `${h}h` : ""}${m || h ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}

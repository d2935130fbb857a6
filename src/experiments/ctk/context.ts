import type { Path } from "../source.js";

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

export interface ProblemSink {
  add(path: Path, message: string, opts?: { hint?: string; atKey?: boolean }): void;
}

/**
 * What the translation of one Chaos Toolkit experiment gathers on its way: problems at their place in the
 * Chaos Toolkit file, where each part of our document came from (so a problem found later in our document
 * points at the Chaos Toolkit line), and notes where a mapping is not one to one.
 */
export class Translation {
  private readonly origins = new Map<string, Path>();
  readonly notes: { path: Path; text: string }[] = [];
  /** Controls with no equivalent, each reported once. */
  readonly ignored: string[] = [];

  constructor(
    readonly problems: ProblemSink,
    /** Names usable as `${name}`: configuration first, then secrets (Chaos Toolkit's own order). */
    readonly names: { configuration: Set<string>; secrets: Set<string> },
  ) {}

  from(ours: Path, theirs: Path): void {
    this.origins.set(JSON.stringify(ours), theirs);
  }

  note(ours: Path, text: string): void {
    this.notes.push({ path: ours, text });
  }

  /** The Chaos Toolkit path our `path` came from: the longest recorded prefix. */
  origin(path: Path): Path {
    for (let n = path.length; n >= 0; n--) {
      const hit = this.origins.get(JSON.stringify(path.slice(0, n)));
      if (hit) return hit;
    }
    return [];
  }

  /**
   * Rewrites Chaos Toolkit's `${name}` into our `${configuration.name}` or `${secrets.name}`, in every string of
   * a value. A name that is neither is a problem: Chaos Toolkit would send the text `${name}` as it is.
   */
  substitute(value: unknown, at: Path): unknown {
    if (typeof value === "string") {
      return value.replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
        if (this.names.configuration.has(name)) return `\${configuration.${name}}`;
        if (this.names.secrets.has(name)) return `\${secrets.${name}}`;
        this.problems.add(at, `\${${name}} names no configuration value and no secret`, {
          hint: `declare ${name} under configuration or secrets`,
        });
        // Reported here once; the run cannot happen, so the reference is not read again.
        return "";
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => this.substitute(v, [...at, i]));
    if (isObj(value))
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.substitute(v, [...at, k])]));
    return value;
  }
}

/** Seconds as Chaos Toolkit writes them (a number) to one of our durations. */
export function seconds(n: number): string {
  return Number.isInteger(n) ? `${n}s` : `${Math.round(n * 1000)}ms`;
}

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Seconds before now of a time dateparser reads as "N <unit> ago" (0 for "now"); undefined for anything
 * else (an absolute date cannot be checked again and again as the run goes on). With `agoOptional`, a bare
 * "10 minutes" too, which dateparser also reads as a time in the past.
 */
export function secondsAgo(v: unknown, agoOptional = false): number | undefined {
  if (typeof v !== "string") return undefined;
  if (/^\s*now\s*$/i.test(v)) return 0;
  const m =
    /^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)(\s+ago)?\s*$/i.exec(
      v,
    );
  if (!m || (!m[3] && !agoOptional)) return undefined;
  return Number(m[1]) * UNIT_S[m[2]!.toLowerCase()[0]!]!;
}

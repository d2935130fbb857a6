/**
 * Every failure the toolkit reports on purpose is a ChaosError: a code (which the CLI maps to an exit code
 * in one place, see `exitCodeFor`), a message, and optionally where it happened and how to fix it.
 */
export type ErrorCode =
  /** The experiment, runbook or command line is wrong: exit 2. */
  | "invalid"
  /** An agent or a piece of infrastructure failed, so the run could not judge: exit 4. */
  | "agent"
  /** The run was aborted by a stop condition or a signal: exit 3. */
  | "aborted";

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export class ChaosError extends Error {
  readonly code: ErrorCode;
  readonly location?: SourceLocation;
  readonly hint?: string;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { location?: SourceLocation; hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "ChaosError";
    this.code = code;
    this.location = opts.location;
    this.hint = opts.hint;
  }

  /** `file:line:col: message (hint)` — the one-line form printed to users. */
  format(): string {
    const where = this.location ? `${this.location.file}:${this.location.line}:${this.location.col}: ` : "";
    return `${where}${this.message}${this.hint ? ` (${this.hint})` : ""}`;
  }
}

/** Several validation problems reported at once; each one is a ChaosError with its own location. */
export class ValidationErrors extends ChaosError {
  readonly errors: ChaosError[];
  /** Problems found beyond those listed: counted only, so that a huge broken file is reported quickly. */
  readonly more: number;

  constructor(errors: ChaosError[], more = 0) {
    const total = errors.length + more;
    super(
      "invalid",
      `${total} problem${total === 1 ? "" : "s"} found${more ? ` (the first ${errors.length} shown, and ${more} more)` : ""}`,
    );
    this.name = "ValidationErrors";
    this.errors = errors;
    this.more = more;
  }

  override format(): string {
    return [...this.errors.map((e) => e.format()), ...(this.more ? [`and ${this.more} more`] : [])].join(
      "\n",
    );
  }
}

/**
 * Thrown by a probe of the system under test when that system gave no usable answer (connection refused,
 * reset, timed out, not HTTP). That is a measurement, the system failing, so the run judges it like a failed
 * tolerance; any other error from a probe means the probe could not be taken and the run cannot judge.
 */
export class NoAnswerError extends ChaosError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super("agent", message, opts);
    this.name = "NoAnswerError";
  }
}

/** Exit codes, as documented in the README. */
export const EXIT = {
  held: 0,
  deviated: 1,
  invalid: 2,
  aborted: 3,
  agent: 4,
} as const;

/** Maps any thrown value to the exit code a CI gate should see. Unknown errors count as infrastructure errors. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ChaosError) return EXIT[err.code];
  return EXIT.agent;
}

/** Wraps a client error at an agent's boundary; keeps the cause's message so the user sees what really failed. */
export function agentError(what: string, cause: unknown, hint?: string): ChaosError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ChaosError("agent", `${what}: ${reason}`, { cause, hint });
}

export function errorMessage(err: unknown): string {
  if (err instanceof ChaosError) return err.format();
  if (err instanceof Error) return err.message;
  return String(err);
}

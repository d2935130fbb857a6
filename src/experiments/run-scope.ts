import type { Logger } from "pino";
import type { Registry } from "../agents/registry.js";
import type { AgentContext } from "../contract/agent.js";
import type { ProbeStart, RunEvent } from "./events.js";
import type { Journal } from "./journal.js";

/**
 * What one run shares with the parts of its lifecycle (fault bookkeeping, hypothesis measurement): the
 * journal they fill, the agents' context, and the controller's ways to report and stop.
 */
export interface RunScope {
  readonly registry: Registry;
  readonly log: Logger;
  readonly journal: Journal;
  /** The agents' context: secrets resolved, the run's abort signal. */
  readonly ctx: AgentContext;
  /** Aborted by anything that stops the method: a stop condition, a failure, a signal. */
  readonly runSignal: AbortSignal;
  /** Aborted only by a signal: ends the recovery wait too, which a stop condition does not. */
  readonly signalStop: AbortSignal;
  /** A value of the experiment with every reference resolved, secrets included. */
  bind(value: unknown): unknown;
  emit(event: RunEvent): void;
  /** The run cannot be judged: records the reason and stops the method. */
  fail(reason: string): void;
  /** Opens a probe check's span when the run is traced; returns the headers its requests carry. */
  traceProbe?(check: ProbeStart): Record<string, string> | undefined;
}

export const now = (): string => new Date().toISOString();

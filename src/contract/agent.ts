import type { Logger } from "pino";

/**
 * The contract between the controller and everything that touches a target.
 *
 *   experiment step ──▶ registry.lookup("process.suspend") ──▶ ActionDefinition
 *                                                                  │ prepare(input, ctx)
 *                                                                  ▼
 *                                     PreparedFault { revert?, apply() }
 *        ledger.record(revert) + fsync ◀──┘        │
 *                                                  ▼ apply()          fault is live
 *        agent.revert(revert) ◀── duration over / abort / signal / crash (`chaos rollback`)
 *
 * Agents never talk to the controller's internals; they receive plain inputs and return plain data, so that
 * a revert description written by one process can be replayed by another.
 */

/** A JSON Schema object (draft 2020-12). Each action and probe declares the schema of its own arguments. */
export type JsonSchema = Record<string, unknown>;

/**
 * Plain data describing how to undo one fault. It is written to the ledger (and fsynced) before the fault is
 * applied, and must be enough for `agent.revert` in a fresh process: no handles, no closures.
 */
export interface RevertDescription {
  /** The agent that can undo it, e.g. "process". */
  agent: string;
  /** What to undo, one of the agent's own revert kinds, e.g. "resume". */
  kind: string;
  /** One line for humans: "resume pid 4242 (payments)". Must not contain secrets. */
  description: string;
  data: Record<string, unknown>;
}

/**
 * Resources shared for the length of one run (a client, an embedded server). Created on first use and
 * disposed when the run ends, after every fault was reverted.
 */
export interface ResourceScope {
  use<T>(key: string, create: () => Promise<T>, dispose: (value: T) => Promise<void>): Promise<T>;
}

/** What an agent may use while it acts. */
export interface AgentContext {
  runId: string;
  /**
   * The experiment's title, for what an agent leaves where people look (a Kubernetes Event names the run and
   * its experiment). In `chaos rollback` it is the title the ledger recorded.
   */
  experiment: string;
  log: Logger;
  /** Aborted when the run is aborted (stop condition, SIGINT, SIGTERM) or the activity timed out. */
  signal: AbortSignal;
  /** The experiment's resolved `configuration` section (agents read their own key, e.g. `toxiproxy`). */
  configuration: Record<string, unknown>;
  /** Resolved secrets by name; never log them. */
  secrets: Record<string, string>;
  resources: ResourceScope;
  /** The ledger folder: a fault must never fill the filesystem the run's own state is written to. */
  stateDir?: string;
  /**
   * W3C trace context (`traceparent`) for what a probe sends, so that its requests appear in the target's
   * own traces under the check that made them; absent when the run is not traced.
   */
  traceHeaders?: Record<string, string>;
}

/** What a revert wants the journal to know, e.g. that a target was removed by someone else meanwhile. */
export interface RevertNote {
  note: string;
  /**
   * The fault was no longer there when it was reverted (a toxic or proxy deleted by someone else): the run
   * cannot say how long it was live, so its verdict may not claim the hypothesis held under it.
   */
  vanished?: boolean;
}

/** The note a revert returned, if any. */
export function revertNote(outcome: unknown): string | undefined {
  const note = (outcome as Partial<RevertNote> | null | undefined)?.note;
  return typeof note === "string" ? note : undefined;
}

/** Whether a revert found its fault already gone. */
export function revertVanished(outcome: unknown): boolean {
  return (outcome as Partial<RevertNote> | null | undefined)?.vanished === true;
}

/** Context for a revert. In `chaos rollback` it is a fresh process: configuration is empty. */
export type RevertContext = AgentContext;

export interface ActivityInput {
  /** The step's `target` block (already validated against the definition's `target` schema). */
  target: Record<string, unknown>;
  /** The step's `args` block (already validated against the definition's `args` schema). */
  args: Record<string, unknown>;
  /**
   * The step's `duration`, when it has one: the fault is reverted after it. A helper started for the fault
   * takes it (plus a grace) as its own deadline, so it never outlives a run that hangs.
   */
  durationMs?: number;
}

export interface PreparedFault {
  /** How to undo the fault; absent when the action leaves nothing to undo (e.g. a kill). */
  revert?: RevertDescription;
  /**
   * Stable keys of what this fault touches, e.g. "process:<boot id>:<pid>:<start time>",
   * "docker:<engine>:<container id>", "kubernetes:<server>:pod/<namespace>/<name>", "toxiproxy:<url>:<proxy>".
   * The controller holds a lease on each key (a file in the ledger folder) from before the revert is recorded
   * until the fault is reverted (a fault with no revert, such as a kill, holds them while it applies), so that
   * a second run touching the same target is refused, naming the holder. Leases are re-entrant within one
   * run. Omit when the action touches nothing that another run could undo.
   */
  locks?: string[];
  /** Applies the fault and returns an output for the journal. Called only once `revert` is in the ledger. */
  apply(): Promise<unknown>;
}

export interface ActionDefinition {
  /** The action's name within its agent: "suspend" for `process.suspend`. */
  name: string;
  description: string;
  /** JSON Schema of the `target` block; omit when the action takes no target. */
  target?: JsonSchema;
  /** JSON Schema of the `args` block. */
  args: JsonSchema;
  /**
   * Resolves the target and decides what the fault will be, touching nothing yet. Must be safe to call and
   * then abandon. Throws ChaosError("agent") when the target cannot be found or reached.
   */
  prepare(input: ActivityInput, ctx: AgentContext): Promise<PreparedFault>;
  /**
   * Optional: what the action would touch if it ran now ("pod/shop/web-1"), resolved as `prepare` resolves
   * it (a seeded selection picks the same targets) and touching nothing. `chaos plan` prints it.
   * Throws like `prepare`.
   */
  targets?(input: ActivityInput, ctx: AgentContext): Promise<string[]>;
  /**
   * Optional: checks, before the steady state and before anything is injected, that the target can take
   * this fault at all (e.g. that the server knows a toxic type). Touches nothing.
   * Throws ChaosError("agent") when it cannot: the run then stops with nothing injected (exit 4).
   */
  preflight?(input: ActivityInput, ctx: AgentContext): Promise<void>;
}

/**
 * What a probe measured. `value` is what a tolerance judges: a number, string, boolean, `null` for an
 * empty result, or NaN. `series` holds several labelled values when the probe returned a vector and the
 * experiment asked to judge `each` or `any` of them.
 */
export interface ProbeResult {
  value: unknown;
  /** Extra fields a tolerance may judge by name (e.g. `status`, `latency` for HTTP). */
  fields?: Record<string, unknown>;
  /** Each series' value; `points` ([unix seconds, value]) when it came from a range query. */
  series?: { labels: Record<string, string>; value: unknown; points?: [number, number][] }[];
  quantifier?: "each" | "any";
  /** Short text for the journal and reports, e.g. "200 in 12ms". */
  summary?: string;
}

export interface ProbeDefinition {
  name: string;
  description: string;
  /** JSON Schema of the probe's arguments (the value under its key in the experiment). */
  args: JsonSchema;
  /** Throws ChaosError("agent") when the probe cannot be taken at all (it is then an `error` outcome). */
  run(args: Record<string, unknown>, ctx: AgentContext): Promise<ProbeResult>;
  /** Optional offline checks beyond the schema (e.g. PromQL syntax), returned as problems at a path. */
  check?(
    args: Record<string, unknown>,
  ): { path: string[]; message: string; hint?: string; offset?: number }[];
  /** Optional check before anything is injected (e.g. send each PromQL query once). */
  preflight?(args: Record<string, unknown>, ctx: AgentContext): Promise<void>;
}

export interface Agent {
  /** The prefix in `agent.action`: "process", "http", "toxiproxy", "prometheus". */
  name: string;
  description: string;
  /** JSON Schema of `configuration.<name>` in an experiment, when the agent reads one. */
  configuration?: JsonSchema;
  /** When a probe entry uses the agent's bare name (`http: {…}`), this probe is meant. */
  defaultProbe?: string;
  actions: Record<string, ActionDefinition>;
  probes: Record<string, ProbeDefinition>;
  /**
   * Called once before the steady state is first checked, when the experiment configures or uses this agent
   * (e.g. to start the embedded proxy so the system under test is reachable through it). Whatever it starts
   * belongs in `ctx.resources`. Throws ChaosError("agent") when the agent cannot work at all: then nothing
   * is injected.
   */
  prepareRun?(ctx: AgentContext): Promise<void>;
  /**
   * Optional: which system the agent will act on, in words ("cluster https://10.0.0.1:6443, context prod"),
   * so that a person sees it before anything is touched; `chaos run` prints it after `prepareRun`, `chaos plan`
   * with the targets. Touches nothing. Throws like `prepareRun`.
   */
  whereItActs?(ctx: AgentContext): Promise<string>;
  /**
   * Undoes one fault this agent described. Idempotent: reverting twice equals once; reverting a fault whose
   * target is already gone succeeds, and may say so in a note the journal keeps with the rollback.
   * Throws ChaosError("agent") when the undo could not be done.
   */
  revert(revert: RevertDescription, ctx: RevertContext): Promise<void> | Promise<RevertNote | undefined>;
}

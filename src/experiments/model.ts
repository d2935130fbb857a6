import type { SecretTemplate } from "./interpolate.js";
import type { Path } from "./source.js";
import type { Tolerance } from "./tolerance.js";

/** A probe as the controller runs it: resolved to an agent's probe, with its tolerance parsed. */
export interface ProbeSpec {
  name: string;
  /** The provider key as written: `http`, `prometheus`, `process.running`. */
  key: string;
  agent: string;
  probe: string;
  args: Record<string, unknown>;
  tolerance?: Tolerance;
  timeoutMs?: number;
  /** Its weight in the resilience score (default 1). */
  weight?: number;
  /** The unit its values are in (`unit:`), for reports. */
  unit?: string;
  path: Path;
}

export interface ActionStep {
  kind: "action";
  name: string;
  /** `agent.action` as written. */
  ref: string;
  agent: string;
  action: string;
  target: Record<string, unknown>;
  args: Record<string, unknown>;
  durationMs?: number;
  background: boolean;
  timeoutMs?: number;
  path: Path;
}

export interface PauseStep {
  kind: "pause";
  name: string;
  ms: number;
  path: Path;
}

export interface ProbeStep {
  kind: "probe";
  name: string;
  probe: ProbeSpec;
  background: boolean;
  path: Path;
}

export type Step = ActionStep | PauseStep | ProbeStep;

export interface StopCondition {
  name: string;
  /** The probe; its tolerance is the `when` clause: a match aborts the run. */
  probe: ProbeSpec;
  everyMs: number;
  /** A check that cannot be taken stops the run (fail closed), unless the experiment says `continue`. */
  onError: "stop" | "continue";
  /**
   * A check that saw nothing (an empty result, null) or NaN cannot tell whether the condition is met: it
   * stops the run unless the experiment says `empty: continue` / `nan: continue`; absent, as `on-error`.
   */
  onEmpty: "stop" | "continue";
  onNaN: "stop" | "continue";
  path: Path;
}

export interface SecretSource {
  env?: string;
  file?: string;
  /** Written in the experiment itself (Chaos Toolkit's inline secrets); masked in the journal's copy. */
  value?: string;
}

export interface SteadyState {
  probes: ProbeSpec[];
  /** `none`: deliberately not checked while faults are live; absent: nothing checked, so the run cannot hold. */
  during?: { everyMs: number; failFast: boolean } | "none";
  /**
   * Absent: one check before the method. Present: checked every `everyMs` until it holds, for at most
   * `withinMs` (a system still settling from a previous run is not yet "not steady").
   */
  before?: { withinMs: number; everyMs: number };
  after: { withinMs: number; everyMs: number };
  /** Phases deliberately not checked (`before: none`, `after: none`; Chaos Toolkit's strategies). */
  skip?: { before?: boolean; after?: boolean };
}

/** A validated experiment, with `${env}` and `${configuration}` resolved and `${secrets}` left for run time. */
export interface Experiment {
  file: string;
  title: string;
  description?: string;
  tags: string[];
  configuration: Record<string, unknown>;
  secrets: Record<string, SecretSource>;
  steadyState?: SteadyState;
  stopWhen: StopCondition[];
  method: Step[];
  rollbacks: ActionStep[];
  /** When `rollbacks` run (`rollbacks-when`; Chaos Toolkit's --rollback-strategy); absent: always. */
  rollbacksWhen?: "always" | "deviated" | "not-failed";
  /** The experiment as written (secrets as references only), for the journal. */
  document: Record<string, unknown>;
  /** `metrics: { pushgateway }`: where the run's metrics go (CHAOS_PUSHGATEWAY_URL wins). */
  metrics?: { pushgateway?: string };
  /** `notifications:`: webhooks told of the run's events, besides those of the user's settings file. */
  notifications?: NotificationTarget[];
  /** Set when the file was written for another tool and translated on loading. */
  source?: {
    format: "chaostoolkit";
    /** The file as written. */
    document: Record<string, unknown>;
    /** Parts with no equivalent, reported once (e.g. controls). */
    ignored: string[];
    /** Where the translation is not one to one, at its path in `document`. */
    notes: { path: (string | number)[]; text: string }[];
  };
}

/** A place told of a run's events: a JSON webhook signed with `secret`, or a Slack incoming webhook. */
export type NotificationTarget =
  | { webhook: string; secret?: string | SecretTemplate }
  | { slack: string; reportUrl?: string };

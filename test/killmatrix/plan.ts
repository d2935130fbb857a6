import { seededRandom } from "../../src/agents/selection.js";

/**
 * The kill matrix's plan: which scenario, phase and interruption each case gets, drawn from one seed so a
 * failing run replays exactly (`KILL_MATRIX_SEED=…`).
 */

/** The run's phases, each found by the progress line `chaos run` prints as it enters it. */
export const PHASES = {
  before: { marker: "▸ steady state before", maxDelayMs: 120 },
  apply: { marker: "→ inject", maxDelayMs: 8 },
  live: { marker: "⚡ fault live", maxDelayMs: 450 },
  rollback: { marker: "▸ rollbacks", maxDelayMs: 10 },
  after: { marker: "▸ steady state after", maxDelayMs: 120 },
} as const;
export type PhaseName = keyof typeof PHASES;

/** How a case interrupts the run: one or two signals `gapMs` apart; SIGKILL is followed by `chaos rollback`. */
export interface Interruption {
  name: string;
  signals: NodeJS.Signals[];
  gapMs: number;
}

export const INTERRUPTIONS: Interruption[] = [
  { name: "SIGINT", signals: ["SIGINT"], gapMs: 0 },
  { name: "SIGTERM", signals: ["SIGTERM"], gapMs: 0 },
  { name: "SIGHUP", signals: ["SIGHUP"], gapMs: 0 },
  { name: "SIGQUIT", signals: ["SIGQUIT"], gapMs: 0 },
  { name: "SIGINT×2", signals: ["SIGINT", "SIGINT"], gapMs: 20 },
  { name: "SIGTERM+SIGHUP", signals: ["SIGTERM", "SIGHUP"], gapMs: 20 },
  { name: "SIGKILL", signals: ["SIGKILL"], gapMs: 0 },
];

export interface PlannedCase {
  index: number;
  scenario: string;
  phase: PhaseName;
  interruption: Interruption;
  /** How long after the phase's progress line the first signal is sent. */
  delayMs: number;
}

/**
 * `count` cases: scenarios and phases in turn (every pair is covered once count ≥ their product), each
 * interruption equally often in a seeded order, and a seeded delay within the phase.
 */
export function planCases(seed: number, count: number, scenarios: string[]): PlannedCase[] {
  const rnd = seededRandom(seed);
  const phases = Object.keys(PHASES) as PhaseName[];
  const kinds = Array.from({ length: count }, (_, i) => INTERRUPTIONS[i % INTERRUPTIONS.length]!);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds.map((interruption, index) => {
    const scenario = scenarios[index % scenarios.length]!;
    const phase = phases[Math.floor(index / scenarios.length) % phases.length]!;
    const delayMs = Math.round(rnd() * PHASES[phase].maxDelayMs);
    return { index, scenario, phase, interruption, delayMs };
  });
}

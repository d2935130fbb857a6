import {
  DEFAULT_STRATEGY,
  HYPOTHESIS_STRATEGIES,
  ROLLBACK_STRATEGIES,
  type Strategy,
} from "../experiments/ctk/translate.js";
import { ChaosError } from "../experiments/errors.js";

/** Chaos Toolkit's strategy flags, for the commands that read its experiments (`run`, `import`). */
export const STRATEGY_OPTIONS = {
  "hypothesis-strategy": {
    choices: HYPOTHESIS_STRATEGIES,
    default: "default" as const,
    describe:
      "Chaos Toolkit experiments: when the hypothesis is checked (default: before and after the method; continuously: before, during and after; before-method-only, after-method-only, during-method-only: that phase alone)",
  },
  "rollback-strategy": {
    choices: ROLLBACK_STRATEGIES,
    default: "default" as const,
    describe:
      "Chaos Toolkit experiments: when their own rollbacks run (default: unless the run failed or was interrupted; always; never; deviated: only if it deviated). Every fault is reverted whatever this says",
  },
  "hypothesis-frequency": {
    type: "number" as const,
    default: 1,
    describe: "Chaos Toolkit experiments: seconds between checks during the method",
  },
  "fail-fast": {
    type: "boolean" as const,
    default: false,
    describe: "Chaos Toolkit experiments: stop the method at the first deviation during it",
  },
  "accept-unobserved": {
    type: "boolean" as const,
    default: false,
    describe:
      "Chaos Toolkit experiments: accept a verdict with no check while faults are live (our during: none)",
  },
};

export interface StrategyArgs {
  "hypothesis-strategy": Strategy["hypothesis"];
  "rollback-strategy": Strategy["rollback"];
  "hypothesis-frequency": number;
  "fail-fast": boolean;
  "accept-unobserved": boolean;
}

/**
 * The strategy flags as one value (our own experiments ignore it: they say it in the file).
 * @throws ChaosError("invalid") for a frequency that is not a positive number of seconds.
 */
export function strategyOf(args: StrategyArgs): Strategy {
  const frequency = args["hypothesis-frequency"];
  if (!(Number.isFinite(frequency) && frequency > 0 && frequency <= 86_400))
    throw new ChaosError("invalid", `--hypothesis-frequency ${frequency} is not a number of seconds`, {
      hint: "e.g. --hypothesis-frequency 1 (up to 86400)",
    });
  return {
    ...DEFAULT_STRATEGY,
    hypothesis: args["hypothesis-strategy"],
    rollback: args["rollback-strategy"],
    frequency,
    failFast: args["fail-fast"],
    acceptUnobserved: args["accept-unobserved"],
  };
}

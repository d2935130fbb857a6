import { readdirSync, readFileSync } from "node:fs";
import { expect } from "vitest";
import { CGROUP_EXPERIMENTS, PAYMENTS_CPU_LIMIT } from "../../examples/demo/catalog.js";
import { describeWithCgroups } from "../support/cgroup.js";
import { describeWithPrometheus } from "../support/prometheus.js";
import { runBothWays } from "../support/sample-app-verdicts.js";

/**
 * The bundled experiments that need payments under a CPU limit of its own (a real v1 or v2 cgroup the sample
 * app makes, as root), through the built CLI, against the real sample app and a real Prometheus: each holds
 * against the resilient app and deviates once its practice is off. The stressor is bounded by payments'
 * quota (a fifth of a core), so it costs the machine little. Afterwards no stressor may be left.
 */

/** Stressors (`chaos stress cpu …`) that joined this test's payments cgroup and still run. */
function stressorsLeft(): number[] {
  const mark = `chaoskit-payments-${process.pid}`;
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
        return cmd.includes(" stress cpu ") && cmd.includes(mark);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describeWithCgroups("the cgroup experiments against the sample app", () => {
  describeWithPrometheus("with payments under a CPU limit", () => {
    runBothWays({
      name: "stress",
      experiments: CGROUP_EXPERIMENTS,
      rounds: process.env.CI ? 2 : 1,
      runTimeoutMs: 120_000,
      app: { paymentsCpu: PAYMENTS_CPU_LIMIT },
      leftBehind() {
        expect(stressorsLeft(), "stressors left running").toEqual([]);
      },
    });
  });
});

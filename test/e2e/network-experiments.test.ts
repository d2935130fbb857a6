import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { expect } from "vitest";
import { NETWORK_EXPERIMENTS } from "../../examples/demo/catalog.js";
import type { TargetEnvironment } from "../../examples/demo/environment.js";
import { describeWithNamespaces, requireNamespaces } from "../support/netns.js";
import { describeWithPrometheus } from "../support/prometheus.js";
import { runBothWays } from "../support/sample-app-verdicts.js";

/**
 * The bundled network experiments, through the built CLI, against the real sample app with payments in a
 * network namespace of its own (made by the app, as root, with a veth pair on a private /30; its database
 * stand-in on the other side) and a real Prometheus: each holds against the resilient app and deviates
 * with timeouts off. Experiments switching the same practice off share one fragile app; each app starts its
 * own Prometheus (payments' address depends on the app's subnet). Afterwards payments' namespace holds no
 * rule of a run and no process but payments.
 */

/** The iptables rules a run left in payments' namespace, and the processes other than payments in it. */
function leftInNamespace(target: TargetEnvironment): { rules: string[]; processes: number[] } {
  const netns = target.stack.paymentsNetns!;
  const rules = execFileSync("ip", ["netns", "exec", netns.name, "iptables-save"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes("chaos:"));
  const inode = statSync(`/run/netns/${netns.name}`).ino;
  const payments = Number(readFileSync(target.stack.pidFiles.payments, "utf8"));
  const processes = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d) && Number(d) !== payments)
    .filter((pid) => {
      try {
        return statSync(`/proc/${pid}/ns/net`).ino === inode;
      } catch {
        return false;
      }
    })
    .map(Number);
  return { rules, processes };
}

describeWithNamespaces("the network experiments against the sample app", () => {
  describeWithPrometheus("with payments in a network namespace of its own", () => {
    requireNamespaces();
    runBothWays({
      name: "network",
      experiments: NETWORK_EXPERIMENTS,
      rounds: 1,
      runTimeoutMs: 90_000,
      app: { paymentsNetns: { subnet: 1 + Math.floor(Math.random() * 250) } },
      sharedPrometheus: false,
      fragileAppPerPractice: true,
      leftBehind(target) {
        expect(leftInNamespace(target), "left in payments' namespace").toEqual({ rules: [], processes: [] });
      },
    });
  });
});

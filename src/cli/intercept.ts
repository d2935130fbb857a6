import { pino } from "pino";
import type { CommandModule } from "yargs";
import { readDeadline } from "../agents/inside/switch.js";
import type { NetworkPlan } from "../agents/network/plan.js";
import type { GlobalArgs } from "./context.js";

interface Args extends GlobalArgs {
  tag: string;
  plan: string;
  deadline: string;
}

/**
 * The network agent's helper inside a target's namespace (started by the run, never by hand): hidden from
 * the help. It lives until its run closes its pipe, its deadline, or SIGTERM, then removes its rules.
 */
export const interceptCommand: CommandModule<GlobalArgs, Args> = {
  command: "intercept",
  describe: false,
  builder: (y) =>
    y
      .option("tag", { type: "string", demandOption: true })
      .option("plan", { type: "string", demandOption: true })
      .option("deadline", { type: "string", demandOption: true }) as never,
  handler: async (args) => {
    const { runNetworkHelper } = await import("../agents/network/helper-main.js");
    // Its log lines go to stderr, which the run forwards into its own log; stdout carries the ready line.
    const log = pino({ level: "info", base: { tag: args.tag } }, pino.destination(2));
    const plan = JSON.parse(args.plan) as NetworkPlan;
    // The tag on the command line is how `chaos rollback` finds this helper: it must be the rules' tag too.
    if (plan.tag !== args.tag) throw new Error("--tag and the plan's tag differ");
    await runNetworkHelper(plan, readDeadline(args.deadline), log);
  },
};

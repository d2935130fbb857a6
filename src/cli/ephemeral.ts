import { pino } from "pino";
import type { CommandModule } from "yargs";
import { parseDuration } from "../experiments/duration.js";
import type { GlobalArgs } from "./context.js";

interface Args extends GlobalArgs {
  for: string;
  "stop-file": string;
  "--"?: string[];
}

/**
 * What an ephemeral container of a pod fault runs (added by the run, never by hand): hidden from the help.
 * `chaos ephemeral --for 30s --stop-file /tmp/chaos-stop -- intercept --tag T --plan P` runs the helper
 * until its deadline, the stop file, or SIGTERM.
 */
export const ephemeralCommand: CommandModule<GlobalArgs, Args> = {
  command: "ephemeral",
  describe: false,
  builder: (y) =>
    y
      .parserConfiguration({ "populate--": true })
      .option("for", { type: "string", demandOption: true })
      .option("stop-file", { type: "string", demandOption: true }) as never,
  handler: async (args) => {
    const { runInPod } = await import("../agents/kubernetes/in-pod.js");
    const log = pino({ level: "info", base: { in: "ephemeral" } }, pino.destination(2));
    const helper = (args["--"] ?? []).map(String);
    if (helper[0] !== "intercept" && helper[0] !== "stress") {
      process.stderr.write("chaos ephemeral: the helper after -- must be intercept or stress\n");
      process.exit(2);
    }
    process.exit(
      await runInPod({ forMs: parseDuration(args.for), stopFile: args["stop-file"], helper, log }),
    );
  },
};

import type { CommandModule } from "yargs";
import { Ledger } from "../experiments/ledger.js";
import { recoverFromLedger } from "../experiments/recover.js";
import { cliContext, exitWith, type GlobalArgs } from "./context.js";
import { green, red, say, yellow } from "./output.js";

interface Args extends GlobalArgs {
  ledger?: string;
  force: boolean;
}

export const rollbackCommand: CommandModule<GlobalArgs, Args> = {
  command: "rollback",
  describe: "revert every fault a crashed or killed run left in the ledger",
  builder: (y) =>
    y
      .option("ledger", {
        type: "string",
        describe: "ledger folder (default .chaos/ledger or $CHAOS_LEDGER)",
      })
      .option("force", {
        type: "boolean",
        default: false,
        describe: "also revert faults of runs that are still alive",
      }) as never,
  handler: async (args) => {
    await exitWith(async () => {
      const { log, registry } = cliContext(args);
      const ledger = new Ledger(args.ledger);
      const { unreadable } = await ledger.entries();
      for (const f of unreadable) say(red(`✗ unreadable ledger entry ${f} — inspect and delete it by hand`));
      const results = await recoverFromLedger({
        ledger,
        registry,
        log,
        force: args.force,
        onResult: (r) => {
          const mark = r.status === "reverted" ? green("↺") : r.status === "skipped" ? yellow("-") : red("✗");
          say(
            `${mark} ${r.entry.revert.description} ${r.reason ? `— ${r.reason}` : ""}(run ${r.entry.runId}, step "${r.entry.step}")`,
          );
        },
      });
      if (results.length === 0 && unreadable.length === 0) say(`nothing to roll back in ${ledger.dir}`);
      const failed = results.filter((r) => r.status === "failed").length + unreadable.length;
      if (failed) say(red(`${failed} fault(s) could not be reverted; they stay in ${ledger.dir}`));
      return failed ? 4 : 0;
    });
    // Once the recovery is reported nothing may keep the process alive (a socket to a server that hangs).
    process.exit();
  },
};

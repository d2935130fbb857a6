import type { CommandModule } from "yargs";
import { Ledger } from "../experiments/ledger.js";
import { recoverFromLedger } from "../experiments/recover.js";
import { cliContext, exitWith, type GlobalArgs } from "./context.js";
import { dim, green, red, say, yellow } from "./output.js";

interface Args extends GlobalArgs {
  ledger?: string;
  force: boolean;
}

export const rollbackCommand: CommandModule<GlobalArgs, Args> = {
  command: "rollback",
  describe:
    "revert every fault a crashed or killed run left in the ledger (exit 4 if any entry could not be reverted or read)",
  builder: (y) =>
    y
      .option("ledger", {
        type: "string",
        describe:
          "ledger folder (default $CHAOS_LEDGER, else $XDG_STATE_HOME/chaoskit/ledger or ~/.local/state/chaoskit/ledger)",
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
      say(dim(`ledger: ${ledger.dir}`));
      let malformed = 0;
      const results = await recoverFromLedger({
        ledger,
        registry,
        log,
        force: args.force,
        onMalformed: (m) => {
          malformed++;
          say(
            red(`✗ malformed ledger entry ${m.file}: ${m.problem} — skipped; inspect and delete it by hand`),
          );
        },
        onStale: (what) => say(dim(`  removed ${what}`)),
        onResult: (r) => {
          const mark = r.status === "reverted" ? green("↺") : r.status === "skipped" ? yellow("-") : red("✗");
          say(
            `${mark} ${r.entry.revert.description} ${r.reason ? `— ${r.reason} ` : ""}(run ${r.entry.runId}, step "${r.entry.step}")`,
          );
        },
      });
      if (results.length === 0 && malformed === 0) say(`nothing to roll back in ${ledger.dir}`);
      const failed = results.filter((r) => r.status === "failed").length + malformed;
      if (failed) {
        const what = failed === 1 ? "1 ledger entry" : `${failed} ledger entries`;
        say(red(`${what} could not be reverted or read; they stay in ${ledger.dir}`));
      }
      return failed ? 4 : 0;
    });
    // Once the recovery is reported nothing may keep the process alive (a socket to a server that hangs).
    process.exit();
  },
};

import type { Logger } from "pino";
import { defaultRegistry } from "../agents/index.js";
import type { Registry } from "../agents/registry.js";
import { createLogger, type LogFormat } from "./logger.js";

export { endWith, exitWith, printError, VERSION } from "./basics.js";

export interface GlobalArgs {
  "log-level"?: string;
  "log-format"?: LogFormat;
  "max-input-bytes"?: number;
}

export interface CliContext {
  log: Logger;
  registry: Registry;
  /** `--max-input-bytes`, when given. */
  maxBytes?: number;
}

/** What a command works with; the logger is made on first use (`validate` and `plan` never log). */
export function cliContext(args: GlobalArgs): CliContext {
  let log: Logger | undefined;
  return {
    get log() {
      log ??= createLogger(args["log-level"], args["log-format"]);
      return log;
    },
    registry: defaultRegistry(),
    maxBytes: args["max-input-bytes"],
  };
}

/**
 * The experiment files named on the command line, `-` (standard input) included: the argument parser drops a
 * lone `-`, leaving an empty positional, so it is put back from the raw arguments.
 */
export function inputFiles(parsed: string[] | string | undefined): string[] {
  const files = (Array.isArray(parsed) ? parsed : [parsed ?? ""]).filter((f) => f !== "");
  return process.argv.slice(2).includes("-") ? ["-", ...files] : files;
}

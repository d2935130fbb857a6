import type { Logger } from "pino";
import pkg from "../../package.json" with { type: "json" };
import { defaultRegistry } from "../agents/index.js";
import type { Registry } from "../agents/registry.js";
import { errorMessage, exitCodeFor, ValidationErrors } from "../experiments/errors.js";
import { createLogger, type LogFormat } from "./logger.js";
import { red } from "./output.js";

export const VERSION: string = pkg.version;

export interface GlobalArgs {
  "log-level": string;
  "log-format"?: LogFormat;
}

export interface CliContext {
  log: Logger;
  registry: Registry;
}

export function cliContext(args: GlobalArgs): CliContext {
  return { log: createLogger(args["log-level"], args["log-format"]), registry: defaultRegistry() };
}

/** Prints a deliberate error in one or more `file:line:col: what (hint)` lines; never a stack trace. */
export function printError(err: unknown): void {
  if (err instanceof ValidationErrors) {
    for (const e of err.errors) process.stderr.write(`${e.format()}\n`);
    process.stderr.write(red(`${err.message}\n`));
    return;
  }
  process.stderr.write(`${red("error:")} ${errorMessage(err)}\n`);
}

/**
 * Runs a command body and turns its outcome into the process exit code: the number it returns, or the code
 * mapped from what it throws (see EXIT in errors.ts).
 */
export async function exitWith(body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (err) {
    printError(err);
    process.exitCode = exitCodeFor(err);
  }
}

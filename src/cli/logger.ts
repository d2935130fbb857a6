import { createRequire } from "node:module";
import { Writable } from "node:stream";
import type { Logger } from "pino";

/** pino and pino-pretty are loaded when the first logger is made: commands that never log start faster. */
const require = createRequire(import.meta.url);

export type LogFormat = "json" | "pretty";

/**
 * Structured logs on stderr: JSON when stderr is not a terminal or when asked, readable otherwise. Human
 * progress lines go to stdout separately, so a CI log and a pipe both stay clean.
 */
export function createLogger(level = "info", format?: LogFormat): Logger {
  const pino = require("pino") as typeof import("pino").default;
  const useJson = format ? format === "json" : !process.stderr.isTTY;
  const options = {
    level,
    base: { name: "chaos" },
    redact: {
      paths: ["*.password", "*.token", "*.authorization", "*.Authorization", "secrets"],
      censor: "***",
    },
  };
  // Through process.stderr, so that every line passes the output guard (secrets, control characters, a
  // failed write); stderr is synchronous for files, pipes and terminals on Linux.
  const stderr = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      process.stderr.write(String(chunk));
      done();
    },
  });
  if (useJson) return pino(options, stderr);
  const pretty = require("pino-pretty") as typeof import("pino-pretty");
  return pino(
    options,
    pretty({
      destination: stderr as never,
      sync: true,
      ignore: "pid,hostname,name",
      translateTime: "HH:MM:ss.l",
    }),
  );
}

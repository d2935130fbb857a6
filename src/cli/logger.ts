import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type LogFormat = "json" | "pretty";

/**
 * Structured logs on stderr: JSON when stderr is not a terminal or when asked, readable otherwise. Human
 * progress lines go to stdout separately, so a CI log and a pipe both stay clean.
 */
export function createLogger(level = "info", format?: LogFormat): Logger {
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
  const stderr = { write: (line: string) => process.stderr.write(line) };
  if (useJson) return pino(options, stderr);
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

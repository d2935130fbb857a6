import { openSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Writable } from "node:stream";
import type { Logger } from "pino";
import { makeDirSync } from "../experiments/make-dir.js";
import { outputRedactor } from "../experiments/redact.js";

/** pino and pino-pretty are loaded when the first logger is made: commands that never log start faster. */
const require = createRequire(import.meta.url);

export type LogFormat = "json" | "pretty";

/**
 * Structured logs on stderr: JSON when stderr is not a terminal or when asked, readable otherwise. Human
 * progress lines go to stdout separately, so a CI log and a pipe both stay clean. With `file`, every record
 * from `debug` up is also written there as JSON lines (`run.log` beside a run's journal), whatever the level
 * on stderr. Both pass the output redactor: no secret reaches a log, on the terminal or on disk.
 */
export function createLogger(level = "info", format?: LogFormat, file?: string): Logger {
  const pino = require("pino") as typeof import("pino").default;
  const useJson = format ? format === "json" : !process.stderr.isTTY;
  const options = {
    level,
    name: "chaos",
    redact: {
      paths: ["*.password", "*.token", "*.authorization", "*.Authorization", "headers.*"],
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
  const toStderr = useJson
    ? stderr
    : (require("pino-pretty") as typeof import("pino-pretty"))({
        destination: stderr as never,
        sync: true,
        ignore: "pid,hostname,name",
        translateTime: "HH:MM:ss.l",
      });
  if (!file) return pino(options, toStderr);
  const value = (l: string) => pino.levels.values[l] ?? Number.POSITIVE_INFINITY;
  const fileLevel = value(level) < value("debug") ? level : "debug";
  const streams: import("pino").StreamEntry[] = [
    { level: fileLevel as import("pino").Level, stream: redactedFile(file) },
  ];
  if (level !== "silent") streams.push({ level: level as import("pino").Level, stream: toStderr });
  return pino({ ...options, level: fileLevel }, pino.multistream(streams));
}

/** A log file written synchronously, each line through the output redactor; a failed write is dropped. */
function redactedFile(file: string): Writable {
  makeDirSync(dirname(file));
  const fd = openSync(file, "a", 0o600);
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      try {
        writeSync(fd, outputRedactor.text(String(chunk)));
      } catch {
        // Logs are best effort: a full disk must not change the verdict.
      }
      done();
    },
  });
}

import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type LogFormat = "json" | "pretty";

/**
 * Structured logs on stderr: JSON when stderr is not a terminal or when asked, readable otherwise. Human
 * progress lines go to stdout separately, so a CI log and a pipe both stay clean. With `file`, every record
 * from `debug` up is also written there as JSON lines (`run.log` beside a run's journal), whatever the level
 * on stderr.
 */
export function createLogger(level = "info", format?: LogFormat, file?: string): Logger {
  const useJson = format ? format === "json" : !process.stderr.isTTY;
  const options = {
    level,
    base: { name: "chaos" },
    redact: {
      paths: ["*.password", "*.token", "*.authorization", "*.Authorization", "secrets"],
      censor: "***",
    },
  };
  const stderr = useJson
    ? pino.destination({ fd: 2, sync: true })
    : pretty({ destination: 2, sync: true, ignore: "pid,hostname,name", translateTime: "HH:MM:ss.l" });
  if (!file) return pino(options, stderr);
  const value = (l: string) => pino.levels.values[l] ?? Number.POSITIVE_INFINITY;
  const fileLevel = value(level) < value("debug") ? level : "debug";
  const streams: pino.StreamEntry[] = [
    { level: fileLevel as pino.Level, stream: pino.destination({ dest: file, sync: true, mkdir: true }) },
  ];
  if (level !== "silent") streams.push({ level: level as pino.Level, stream: stderr });
  return pino({ ...options, level: fileLevel }, pino.multistream(streams));
}

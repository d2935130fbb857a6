import { type Logger, pino } from "pino";

/** A structured logger for one service; LOG_LEVEL sets the level (info by default). Never throws. */
export function serviceLogger(service: string): Logger {
  return pino({ name: service, level: process.env["LOG_LEVEL"] ?? "info" });
}

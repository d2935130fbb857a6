import type { Logger } from "pino";
import type { RunEvent } from "./controller.js";

/**
 * The lifecycle as structured logs (run.log, or stderr at debug), for whoever reads JSON rather than the
 * progress lines. Events arrive already redacted.
 */
export function logEvent(log: Logger, e: RunEvent): void {
  switch (e.type) {
    case "phase":
      log.info({ phase: e.phase }, "phase started");
      return;
    case "fault-applied":
      log.info({ step: e.fault.step, action: e.fault.ref, revert: e.fault.description }, "fault applied");
      return;
    case "rollback":
      log[e.record.status === "succeeded" ? "info" : "error"](
        {
          revert: e.record.description,
          source: e.record.source,
          status: e.record.status,
          err: e.record.error,
        },
        "rollback",
      );
      return;
    case "activity":
      if (e.record.status !== "succeeded")
        log.warn(
          { step: e.record.name, status: e.record.status, err: e.record.error },
          "step did not succeed",
        );
      return;
    default:
      return;
  }
}

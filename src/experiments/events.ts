import type { Logger } from "pino";
import type { ActivityRecord, FaultRecord, Phase, ProbeRecord, RollbackRecord } from "./journal.js";
import type { Step } from "./model.js";

/** What the controller reports as it goes; the CLI turns these into human lines. Already redacted. */
export type RunEvent =
  | { type: "phase"; phase: "before" | "method" | "rollbacks" | "after"; note?: string }
  | { type: "probe"; record: ProbeRecord }
  | { type: "activity-start"; name: string; kind: Step["kind"] }
  | { type: "activity"; record: ActivityRecord }
  | { type: "fault-applied"; fault: FaultRecord }
  | { type: "rollback"; record: RollbackRecord }
  | { type: "abort"; reason: string }
  /** Which system an agent acts on (a cluster and context), said before anything is touched. */
  | { type: "acting-on"; agent: string; where: string };

/** A probe check about to be taken: what identifies it again in its `probe` event's record. */
export interface ProbeStart {
  probe: string;
  key: string;
  phase: Phase;
  start: string;
}

/** The lifecycle as structured logs, for whoever reads JSON rather than the progress lines. */
export function logEvent(log: Logger, e: RunEvent): void {
  switch (e.type) {
    case "phase":
      log.info({ phase: e.phase }, "phase started");
      return;
    case "acting-on":
      log.info({ agent: e.agent, where: e.where }, "acting on");
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
      if (e.record.status !== "succeeded") {
        log.warn(
          { step: e.record.name, status: e.record.status, err: e.record.error },
          "step did not succeed",
        );
      }
      return;
    default:
      return;
  }
}

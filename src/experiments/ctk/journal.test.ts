import { describe, expect, test } from "vitest";
import { abortedJournal, deviatedJournal, heldJournal } from "../report/journals.fixture.js";
import { toCtkJournal } from "./journal.js";

const experiment = { document: { title: "ours" }, source: undefined };

describe("a journal in Chaos Toolkit's shape", () => {
  test("a held run is completed and not deviated, with its steady states and activities", () => {
    const j = heldJournal();
    const ctk = toCtkJournal(j, experiment);
    expect(ctk).toMatchObject({ status: "completed", deviated: false, experiment: { title: "ours" } });
    expect(ctk.steady_states.before).toMatchObject({ steady_state_met: true });
    expect(ctk.steady_states.before!.probes).toHaveLength(j.steadyState.before.length);
    expect(ctk.run).toHaveLength(j.method.filter((a) => a.kind !== "pause").length);
    expect(ctk.rollbacks).toHaveLength(j.rollbacks.length);
  });

  test("a deviated run is failed and deviated; an aborted one is aborted", () => {
    expect(toCtkJournal(deviatedJournal(), experiment)).toMatchObject({ status: "failed", deviated: true });
    expect(toCtkJournal(abortedJournal(), experiment)).toMatchObject({ status: "aborted", deviated: false });
  });

  test("a run that was not observed is failed there, never completed", () => {
    const j = { ...heldJournal(), status: "unobserved" as const };
    expect(toCtkJournal(j, experiment).status).toBe("failed");
  });

  test("a translated experiment is journaled as its Chaos Toolkit original", () => {
    const source = { format: "chaostoolkit" as const, document: { title: "theirs" }, ignored: [], notes: [] };
    expect(toCtkJournal(heldJournal(), { document: {}, source }).experiment).toEqual({ title: "theirs" });
  });
});

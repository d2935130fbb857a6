import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ChaosError } from "../errors.js";
import journalSchema from "../schema/journal.schema.json" with { type: "json" };
import { ALL_JOURNALS, heldJournal } from "./journals.fixture.js";
import { checkJournal, readJournal } from "./read.js";

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
const validate = ajv.compile(journalSchema);
const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

function broken(mutate: (j: Record<string, unknown>) => void): unknown {
  const j = roundTrip(heldJournal()) as Record<string, unknown>;
  mutate(j);
  return j;
}

describe("the journal schema", () => {
  test.each(Object.entries(ALL_JOURNALS))("accepts the %s", (_, make) => {
    const ok = validate(roundTrip(make()));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  test.each([
    ["a missing status", (j: Record<string, unknown>) => delete j.status, /status/],
    ["an unknown status", (j: Record<string, unknown>) => (j.status = "passed"), /status/],
    [
      "an exit code that contradicts the status",
      (j: Record<string, unknown>) => (j.exitCode = 1),
      /exitCode/,
    ],
    ["a start that is not a date-time", (j: Record<string, unknown>) => (j.start = "yesterday"), /start/],
    ["an unknown top-level key", (j: Record<string, unknown>) => (j.grade = 3), /grade/],
    [
      "a probe record with an unknown outcome",
      (j: Record<string, unknown>) => {
        ((j.steadyState as { before: { outcome: string }[] }).before[0] as { outcome: string }).outcome =
          "meh";
      },
      /steadyState\/before\/0\/outcome/,
    ],
    [
      "an activity with an unknown status",
      (j: Record<string, unknown>) => {
        ((j.method as { status: string }[])[0] as { status: string }).status = "done";
      },
      /method\/0\/status/,
    ],
    [
      "a fault without its applied time",
      (j: Record<string, unknown>) => delete (j.faults as { appliedAt?: string }[])[0]?.appliedAt,
      /appliedAt/,
    ],
  ])("rejects %s", (_, mutate, where) => {
    const data = broken(mutate);
    expect(validate(data)).toBe(false);
    const problems = checkJournal(data);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toMatch(where);
  });

  test("checkJournal finds no problem in a journal the schema accepts", () => {
    expect(checkJournal(roundTrip(heldJournal()))).toEqual([]);
  });
});

describe("readJournal", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "chaos-journal-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("returns the journal a file holds", async () => {
    const path = join(dir, "journal.json");
    await writeFile(path, JSON.stringify(heldJournal()));
    expect((await readJournal(path)).runId).toBe("run-held");
  });

  test.each([
    ["a missing file", undefined, /cannot read journal/],
    ["a file that is not JSON", "version: 1\ntitle: yaml\n", /is not JSON/],
    [
      "a JSON file that is not a journal",
      JSON.stringify({ version: 1, title: "an experiment" }),
      /is not a chaoskit journal/,
    ],
  ])("refuses %s with an invalid error and a hint", async (_, content, message) => {
    const path = join(dir, "journal.json");
    if (content !== undefined) await writeFile(path, content);
    const err = await readJournal(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChaosError);
    expect(err).toMatchObject({ code: "invalid", message: expect.stringMatching(message) });
    expect((err as ChaosError).hint).toBeTruthy();
  });
});

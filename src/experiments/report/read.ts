import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { ChaosError } from "../errors.js";
import { readRegularFile } from "../input.js";
import type { Journal } from "../journal.js";
import journalSchema from "../schema/journal.schema.json" with { type: "json" };

// ajv-formats is CommonJS; depending on interop its plugin is the module itself or its `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const validate = ajv.compile(journalSchema);

function describe(e: ErrorObject): string {
  const where = e.instancePath || "/";
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "additionalProperties") return `${where}: unknown key "${String(p.additionalProperty)}"`;
  if (e.keyword === "enum") return `${where}: ${e.message} (${(p.allowedValues as unknown[]).join(", ")})`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/** Far above the journal of a long run with many probes; a bound all the same. */
const MAX_JOURNAL_BYTES = 256 * 1024 * 1024;

/** Checks data against journal.schema.json; returns one line per problem, none when it is a valid journal. */
export function checkJournal(data: unknown): string[] {
  if (validate(data)) return [];
  const lines = (validate.errors ?? []).filter((e) => e.keyword !== "if").map(describe);
  return [...new Set(lines)];
}

/**
 * Reads and validates a journal.json.
 * @throws ChaosError("invalid") when the file cannot be read, is not JSON, or is not a journal.
 */
export async function readJournal(path: string): Promise<Journal> {
  let text: string;
  try {
    text = await readRegularFile(path, MAX_JOURNAL_BYTES, "pass the journal.json a run wrote");
  } catch (err) {
    throw new ChaosError(
      "invalid",
      (err as ChaosError).message.replace(/^cannot read /, "cannot read journal "),
      {
        hint: "pass the journal.json a run wrote (see the run's output for its path)",
        cause: err,
      },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ChaosError("invalid", `${path} is not JSON: ${(err as Error).message}`, {
      hint: "pass the journal.json a run wrote, not the experiment file",
      cause: err,
    });
  }
  const problems = checkJournal(data);
  if (problems.length) {
    const shown = problems.slice(0, 5).join("; ");
    const more = problems.length > 5 ? ` and ${problems.length - 5} more` : "";
    throw new ChaosError("invalid", `${path} is not a chaoskit journal: ${shown}${more}`, {
      hint: "it must follow src/experiments/schema/journal.schema.json; was it written by another version?",
    });
  }
  return data as Journal;
}

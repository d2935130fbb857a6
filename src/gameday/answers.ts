import { sleep } from "../experiments/clock.js";
import { formatDuration } from "../experiments/duration.js";
import { ChaosError, ValidationErrors } from "../experiments/errors.js";
import { isObj, Problems, readSourceText } from "../experiments/load.js";
import { SourceFile } from "../experiments/source.js";
import { didYouMean } from "../experiments/suggest.js";
import { isPromptStep, PRECONDITIONS_ID, type Runbook } from "./model.js";
import { GameDayAborted, type Interaction } from "./runner.js";

/** One recorded answer; `by` defaults to whoever the command line names. */
export interface Answer {
  value: string;
  by?: string;
}

const CONFIRM = ["yes", "y", "done", "ok", "confirmed", "true"];
const GO = ["go", "yes", "y", "true"];
const NO_GO = ["no-go", "nogo", "no", "n", "false"];
const ABORT = "abort";

/** Whether a person's answer to a confirmation means yes. */
export const isConfirmation = (text: string) => CONFIRM.includes(text.trim().toLowerCase());
/** A go/no-go answer as a boolean, or undefined when it is neither. */
export function goNoGo(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (GO.includes(t)) return true;
  if (NO_GO.includes(t)) return false;
  return undefined;
}
/** Typing `abort` at any prompt aborts the GameDay. */
export const isAbort = (text: string) => text.trim().toLowerCase() === ABORT;

/** The ids an answer file may hold, with the kind of answer each expects. */
function promptKinds(runbook: Runbook): Map<string, "confirm" | "observe" | "decide"> {
  const kinds = new Map<string, "confirm" | "observe" | "decide">();
  if (runbook.preconditions.checklist.length) kinds.set(PRECONDITIONS_ID, "confirm");
  for (const s of runbook.steps)
    if (isPromptStep(s)) kinds.set(s.id, s.kind === "manual" ? "confirm" : s.kind);
  return kinds;
}

/**
 * Reads an answer file: a YAML mapping from step id to an answer (`yes`, `go`, `no-go`, free text, `abort`)
 * or to `{ answer, by }`. Every problem is reported at once at file:line:col: unknown ids (with "did you
 * mean"), answers of the wrong kind.
 * @throws ValidationErrors, or ChaosError("invalid") when the file cannot be read.
 */
export async function loadAnswers(file: string, runbook: Runbook): Promise<Map<string, Answer>> {
  const src = new SourceFile(file, await readSourceText(file));
  const syntax = src.syntaxErrors();
  if (syntax.length) throw new ValidationErrors(syntax);
  const problems = new Problems(src);
  const answers = new Map<string, Answer>();
  const kinds = promptKinds(runbook);
  if (!isObj(src.data)) {
    problems.add([], "an answer file must be a mapping from step id to answer", {
      hint: "e.g. check-dashboards: yes",
    });
    problems.throwIfAny();
  }
  for (const [id, raw] of Object.entries(src.data as Record<string, unknown>)) {
    const kind = kinds.get(id);
    if (!kind) {
      problems.add([id], `no step "${id}" asks a question`, {
        atKey: true,
        hint: didYouMean(id, [...kinds.keys()]),
      });
      continue;
    }
    const value = isObj(raw) ? raw.answer : raw;
    const by = isObj(raw) && typeof raw.by === "string" ? raw.by : undefined;
    if (value === null || value === undefined || typeof value === "object" || String(value).trim() === "") {
      problems.add(isObj(raw) ? [id, "answer"] : [id], "expected an answer", {
        hint: "a word or a sentence",
      });
      continue;
    }
    const text = String(value);
    if (!isAbort(text) && kind === "confirm" && !isConfirmation(text))
      problems.add(isObj(raw) ? [id, "answer"] : [id], `"${text}" does not confirm`, {
        hint: "answer yes or done",
      });
    if (!isAbort(text) && kind === "decide" && goNoGo(text) === undefined)
      problems.add(isObj(raw) ? [id, "answer"] : [id], `"${text}" is neither go nor no-go`, {
        hint: "answer go or no-go",
      });
    answers.set(id, { value: text, by });
  }
  problems.throwIfAny();
  return answers;
}

/**
 * The prompts no answer covers (with `--yes`, only observations need one).
 * @throws ChaosError("invalid") naming each of them, before anything starts.
 */
export function requireAnswers(runbook: Runbook, answers: Map<string, Answer>, yes: boolean): void {
  const missing = [...promptKinds(runbook)].filter(
    ([id, kind]) => !answers.has(id) && (!yes || kind === "observe"),
  );
  if (missing.length === 0) return;
  throw new ChaosError(
    "invalid",
    `no recorded answer for ${missing.map(([id, kind]) => `"${id}" (${kind})`).join(", ")}`,
    {
      hint: yes
        ? "observations need an answer in --answers FILE"
        : "add them to --answers FILE, pass --yes, or run in a terminal",
    },
  );
}

/** Answers prompts from a file (and `--yes`), for rehearsals and CI: nobody is asked anything. */
export class RecordedAnswers implements Interaction {
  constructor(
    private readonly answers: Map<string, Answer>,
    private readonly yes: boolean,
    private readonly operator: string,
    private readonly say: (line: string) => void,
  ) {}

  private answer(step: string, kind: string): { value: string; by: string } {
    const a = this.answers.get(step);
    const by = a?.by ?? (a ? this.operator : "--yes");
    const value = a?.value ?? (this.yes && kind !== "observe" ? "yes" : undefined);
    if (value === undefined)
      throw new ChaosError("invalid", `no recorded answer for "${step}"`, {
        hint: "add it to --answers FILE",
      });
    this.say(`    › ${value} (${by})`);
    if (isAbort(value)) throw new GameDayAborted(`"abort" answered at "${step}" by ${by}`);
    return { value, by };
  }

  async confirm(step: string): Promise<{ by: string }> {
    return { by: this.answer(step, "confirm").by };
  }

  async observe(step: string): Promise<{ by: string; answer: string }> {
    const { value, by } = this.answer(step, "observe");
    return { by, answer: value };
  }

  async decide(step: string): Promise<{ by: string; go: boolean }> {
    const { value, by } = this.answer(step, "decide");
    return { by, go: goNoGo(value) ?? false };
  }

  async wait(_step: string, ms: number, signal: AbortSignal): Promise<void> {
    this.say(`    waiting ${formatDuration(ms)}`);
    await sleep(ms, signal);
  }
}

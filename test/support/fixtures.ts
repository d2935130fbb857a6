import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { CliResult } from "./cli.js";

/** Where a malformed fixture says its problem is: a leading `# expect: <line>:<col> <substring>` comment. */
export interface Expectation {
  line: number;
  col: number;
  text: string;
}

/** The leading `# expect:` comments of a fixture. */
export function expectations(dir: string, file: string): Expectation[] {
  const out: Expectation[] = [];
  for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
    const m = /^# expect: (\d+):(\d+) (.+)$/.exec(line);
    if (!m) break;
    out.push({ line: Number(m[1]), col: Number(m[2]), text: m[3]! });
  }
  return out;
}

/** The stderr lines that report a problem: `file:line:col: message (hint)`. */
export function problemLines(stderr: string, file: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith(`${file}:`));
}

/** Asserts a CLI run reported each expectation at its position, with exit 2 and no stack trace. */
export function expectProblemsAt(r: CliResult, file: string, expected: Expectation[]): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = problemLines(r.stderr, file);
  for (const e of expected) {
    const at = lines.filter((l) => l.startsWith(`${file}:${e.line}:${e.col}: `));
    expect(at, `expected ${file}:${e.line}:${e.col} in:\n${r.stderr}`).not.toHaveLength(0);
    expect(
      at.some((l) => l.includes(e.text)),
      `expected "${e.text}" at ${e.line}:${e.col} in:\n${r.stderr}`,
    ).toBe(true);
  }
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain("node:internal");
}

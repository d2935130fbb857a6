import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureCliBuilt } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";
import { describeWithTerminal, startInTerminal } from "../support/terminal.js";

/** What a person sees at the end of a run that could not judge, in a real terminal of two widths. */

let dir: string;
let target: Target;

beforeAll(async () => {
  await ensureCliBuilt();
  dir = await mkdtemp(join(tmpdir(), "chaos-screen-verdicts-"));
  target = await startTarget();
}, 180_000);
afterAll(async () => {
  await target?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describeWithTerminal("the end of a run on the screen", () => {
  it.each([150, 80])(
    "at %i columns, a run that ended in an error shows no resilience score, only —",
    async (columns) => {
      const file = join(dir, `error-${columns}.yaml`);
      // the hypothesis holds before; the step then fails: nothing was judged
      await writeFile(
        file,
        `version: 1
title: kill a process that is not there
steady-state:
  probes:
    - name: the target answers
      http: { url: "${target.url}/health" }
      tolerance: { status: 200 }
  during: { every: 1s }
method:
  - action: process.kill
    target: { name: "no-such-process-${process.pid}" }
  - pause: 2s
`,
      );
      const t = await startInTerminal(
        [
          "run",
          file,
          "--ledger",
          join(dir, `ledger-${columns}`),
          "--journal",
          join(dir, `${columns}`, "journal.json"),
        ],
        { cwd: dir, dir, columns },
      );
      try {
        expect(await t.exitCode()).toBe(4);
        const screen = await t.screen();
        expect(screen).toMatch(/verdict: ERROR \(the run could not judge\) \(exit 4, [^)]*\)$/m);
        expect(screen).toMatch(/hypothesis: \d+ checks?, 0 failed · resilience score —$/m);
        // no log records among the human lines: the error is said in the run's own words, once
        expect(screen).not.toMatch(/\b(ERROR|WARN|INFO): |"level":/);
        expect(screen.match(/no process matches name/g)?.length).toBeLessThanOrEqual(3);
        expect(screen).not.toMatch(/score \d/);
        // a step without a name is named by its action, once
        expect(screen).toContain('step "process.kill" failed');
        expect(screen).not.toContain("process.kill: process.kill");
      } finally {
        await t.close();
      }
    },
    40_000,
  );

  it.each([150, 80])(
    "at %i columns, Ctrl-C mid-fault leaves one final summary laid out for the width, no stale live block",
    async (columns) => {
      const sleeper: ChildProcess = spawn("sleep", ["120"], { stdio: "ignore" });
      const file = join(dir, `ctrl-c-${columns}.yaml`);
      await writeFile(
        file,
        `version: 1
title: suspend a helper while the service answers
steady-state:
  probes:
    - name: the target answers its health check
      http: { url: "${target.url}/health" }
      tolerance: { status: 200 }
    - name: checkout latency stays under half a second
      http: { url: "${target.url}/health" }
      tolerance: { latency: "< 500ms" }
  during: { every: 500ms }
method:
  - action: process.suspend
    name: freeze the helper
    target: { pid: ${sleeper.pid} }
    duration: 60s
`,
      );
      const t = await startInTerminal(
        [
          "run",
          file,
          "--ledger",
          join(dir, `ledger-c-${columns}`),
          "--journal",
          join(dir, `c-${columns}`, "journal.json"),
        ],
        { cwd: dir, dir, columns, rows: 30 },
      );
      try {
        // the live block, with each probe's per-phase counts whole
        const live = await t.waitFor(/during \d+.*\n(.*\n)*.*checks \d+ done/, 30_000);
        for (const l of live.split("\n")) expect([...l].length).toBeLessThanOrEqual(columns);
        expect(live).toMatch(/the target answers.*before 1 during \d+/);
        await t.press("C-c");
        expect(await t.exitCode()).toBe(3);
        const screen = await t.screen();
        // nothing the program wrote was wider than the terminal: no row is a word cut by the wrap
        for (const l of screen.split("\n")) expect([...l].length).toBeLessThanOrEqual(columns);
        expect(await t.rows()).toEqual(screen.replace(/\n+$/, "").split("\n"));
        // the live block is gone; the summary is there once, with the abort said once
        expect(screen).not.toMatch(/● method|checks \d+ done|⚡ freeze/);
        expect(screen.match(/^ {2}probe +/gm)).toHaveLength(1);
        expect(screen.match(/aborting: received SIGINT/g)).toHaveLength(1);
        expect(screen).toMatch(/verdict: ABORTED \(exit 3, [^)]*\)$/m);
        // at 80 columns the kind column gives way; a long name wraps at a space, every word whole
        const rows = screen.split("\n");
        const head = rows.find((l) => /^ {2}probe +/.test(l)) ?? "";
        expect(head).toMatch(
          columns >= 120 ? /kind/ : /^ {2}probe +before +during +after +worst +tolerance$/,
        );
        const words = new Set(screen.split(/\s+/));
        for (const w of "checkout latency stays under half a second".split(" ")) expect(words).toContain(w);
        expect(screen).toMatch(/latency < 500 ?ms/);
      } finally {
        await t.close();
        sleeper.kill("SIGCONT");
        sleeper.kill("SIGKILL");
      }
    },
    60_000,
  );
});

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
});

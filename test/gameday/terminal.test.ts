import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import type { GameDayRecord } from "../../src/gameday/record.js";
import { ensureCliBuilt } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";
import { describeWithTerminal, startInTerminal, type Terminal } from "../support/terminal.js";

/**
 * A GameDay at a real terminal (a tmux pseudo-terminal): a person types the answers, or aborts in the
 * middle of a fault — the fault must be gone afterwards, the ledger empty, and the record must say why.
 */

let dir: string;
let target: Target;
let terminal: Terminal | undefined;

beforeAll(ensureCliBuilt, 180_000);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-gameday-tty-"));
  target = await startTarget();
});

afterEach(async () => {
  await terminal?.close();
  terminal = undefined;
  await target.stop();
  await rm(dir, { recursive: true, force: true });
});

const ledger = () => join(dir, "ledger");
const ledgerFiles = () =>
  existsSync(ledger()) ? readdirSync(ledger()).filter((f) => f.endsWith(".json")) : [];
const record = () => JSON.parse(readFileSync(join(dir, "record", "gameday.json"), "utf8")) as GameDayRecord;
const isRunning = (s: string | undefined) => s !== undefined && s !== "T" && s !== "t";

/** A runbook whose experiment freezes the target for `freeze`, between the given steps. */
async function runbook(freeze: string, before: string, after: string): Promise<string> {
  await writeFile(
    join(dir, "freeze.yaml"),
    `version: 1
title: the target is frozen for ${freeze}
steady-state:
  probes:
    - name: target answers
      http: { url: "${target.url}/health", timeout: 2s }
      tolerance: { status: 200 }
  during: none
method:
  - action: process.suspend
    target: { pid-file: "${target.pidFile}" }
    duration: ${freeze}
`,
  );
  const file = join(dir, "runbook.yaml");
  await writeFile(
    file,
    `title: a GameDay at a terminal\nsteps:\n${before}  - id: freeze\n    experiment: freeze.yaml\n    expect: held\n${after}`,
  );
  return file;
}

async function start(file: string, columns?: number): Promise<Terminal> {
  terminal = await startInTerminal(
    [
      "gameday",
      "run",
      file,
      "--operator",
      "alice",
      "--ledger",
      ledger(),
      "--out",
      join(dir, "record"),
      "--log-level",
      "error",
    ],
    { cwd: dir, dir, columns },
  );
  return terminal;
}

describeWithTerminal("chaos gameday run at a terminal", () => {
  it("asks each question, re-asks what it cannot take, and records the typed answers", async () => {
    const file = await runbook(
      "1s",
      "  - id: hello\n    manual: say hello to the team\n",
      "  - id: seen\n    observe: what did the dashboard show?\n  - id: go-on\n    decide: go on?\n",
    );
    await writeFile(file, `preconditions:\n  checklist: [the team is ready]\n${readFileSync(file, "utf8")}`);
    const t = await start(file);
    await t.waitFor(
      /☐ the team is ready\s+Is every item of the checklist true\? \(1 item\)\s+type "done" to confirm, or "abort" › $/m,
    );
    await t.type("done");
    await t.waitFor(/say hello to the team\s+type "done" to confirm/);
    await t.type("yes");
    await t.waitFor(/timeline: ✓ preconditions · ✓ hello · ✓ freeze · ▸ seen/);
    await t.waitFor(/what did the dashboard show\?\s+your observation › $/m);
    await t.type("the p99 panel <b>jumped</b> for a second");
    await t.waitFor(/go on\?\s+go or no-go › $/m);
    await t.type("maybe");
    await t.waitFor(/\(go or no-go\)\s+go or no-go › $/m);
    await t.type("go");
    expect(await t.exitCode()).toBe(0);
    const r = record();
    expect(r.mode).toBe("interactive");
    expect(r.status).toBe("completed");
    expect(r.timeline.map((e) => [e.step, e.status, e.by])).toEqual([
      ["preconditions", "done", "alice"],
      ["hello", "done", "alice"],
      ["freeze", "done", undefined],
      ["seen", "done", "alice"],
      ["go-on", "done", "alice"],
    ]);
    expect(r.timeline[2]!.experiment).toMatchObject({ expect: "held", outcome: "held", matched: true });
    expect(r.timeline[3]!.answer).toBe("the p99 panel <b>jumped</b> for a second");
    expect(r.timeline[4]!.decision).toBe("go");
    expect(r.findings).toEqual([
      { kind: "observation", step: "seen", text: "the p99 panel <b>jumped</b> for a second" },
    ]);
    expect(readFileSync(join(dir, "record", "gameday.html"), "utf8")).toContain("&lt;b&gt;jumped&lt;/b&gt;");
    expect(isRunning(target.state())).toBe(true);
    expect(ledgerFiles()).toEqual([]);
  }, 60_000);

  it.each([
    ["Ctrl-C", (t: Terminal) => t.press("C-c"), /Ctrl-C pressed by alice/],
    ['"abort" typed', (t: Terminal) => t.type("abort"), /"abort" typed by alice/],
  ] as const)(
    "rolls the fault back when %s comes mid-fault, exits 3 and records why",
    async (_, abort, why) => {
      const file = await runbook(
        "30s",
        "  - id: ready\n    manual: tell the team the fault starts\n",
        "  - id: never\n    manual: not reached\n",
      );
      const t = await start(file);
      await t.waitFor(/tell the team the fault starts\s+type "done"/);
      await t.type("done");
      await target.waitForState((s) => s === "T", 15_000);
      await t.waitFor(/fault live/);
      expect(ledgerFiles()).toHaveLength(1);
      await abort(t);
      expect(await t.exitCode()).toBe(3);
      expect(isRunning(target.state())).toBe(true);
      expect((await target.get("/health")).status).toBe(200);
      expect(ledgerFiles()).toEqual([]);
      const r = record();
      expect(r.status).toBe("aborted");
      expect(r.exitCode).toBe(3);
      expect(r.aborted?.reason).toMatch(why);
      expect(r.aborted?.step).toBe("freeze");
      // the abort is said in the GameDay's words, never as a log record on the screen
      expect(await t.screen()).not.toMatch(/\b(WARN|ERROR|INFO): |"level":/);
      expect(r.reasons).toContain(
        "every fault was rolled back: the ledger holds nothing more for this GameDay",
      );
      expect(readFileSync(join(dir, "record", "gameday.md"), "utf8")).toContain(
        "every fault was rolled back",
      );
      expect(r.timeline.map((e) => [e.step, e.status])).toEqual([
        ["ready", "done"],
        ["freeze", "aborted"],
      ]);
      expect(r.timeline[1]!.experiment?.outcome).toBe("aborted");
      const journal = JSON.parse(
        readFileSync(join(dir, "record", r.timeline[1]!.experiment!.journal), "utf8"),
      );
      expect(journal.rollbacks).toMatchObject([{ status: "succeeded" }]);
      expect(await t.screen()).toMatch(/GameDay: ABORTED \(exit 3/);
    },
    60_000,
  );

  it("ends before anything is injected when abort is typed at a prompt", async () => {
    const file = await runbook("30s", "  - id: ready\n    manual: tell the team the fault starts\n", "");
    const t = await start(file);
    await t.waitFor(/tell the team the fault starts\s+type "done"/);
    await t.type("abort");
    expect(await t.exitCode()).toBe(3);
    const r = record();
    expect(r.aborted).toMatchObject({ step: "ready" });
    expect(r.aborted?.reason).toContain('"abort" typed at "ready" by alice');
    expect(r.timeline.map((e) => [e.step, e.status])).toEqual([["ready", "aborted"]]);
    expect(await target.conts(), "the target was never suspended").toBe(0);
    expect(existsSync(join(dir, "record", "1-freeze"))).toBe(false);
    expect(ledgerFiles()).toEqual([]);
  }, 30_000);

  it.each([150, 80])(
    "at %i columns, the countdown of a wait updates in place and answers echo without a stray \\r",
    async (columns) => {
      const file = join(dir, "wait.yaml");
      await writeFile(
        file,
        "title: a wait\nsteps:\n  - id: ready\n    manual: start the clock\n  - id: settle\n    wait: 4s\n",
      );
      const t = await start(file, columns);
      await t.waitFor(/start the clock\s+type "done"/);
      await t.type("done");
      await t.waitFor(/waiting [34]s/);
      await t.waitFor(/waiting [12]s/);
      expect(await t.exitCode()).toBe(0);
      const rows = await t.rows();
      expect(rows.join("\n")).not.toContain("\\r");
      // one row for the whole countdown, rewritten each second
      expect(rows.filter((r) => r.includes("waiting"))).toHaveLength(1);
      expect(rows).toContainEqual(expect.stringMatching(/type "done" to confirm, or "abort" › done$/));
    },
    30_000,
  );

  it.each([150, 80])(
    "at %i columns, an experiment shows the live block of chaos run, and Ctrl-C replaces it once",
    async (columns) => {
      const sleeper = spawn("sleep", ["120"], { stdio: "ignore" });
      try {
        await writeFile(
          join(dir, "live.yaml"),
          `version: 1
title: a helper is frozen while the target answers
steady-state:
  probes:
    - name: the target answers its health check
      http: { url: "${target.url}/health", timeout: 2s }
      tolerance: { status: 200 }
  during: { every: 500ms }
method:
  - action: process.suspend
    name: freeze the helper
    target: { pid: ${sleeper.pid} }
    duration: 30s
`,
        );
        const file = join(dir, "runbook.yaml");
        await writeFile(
          file,
          "title: a live GameDay\nsteps:\n  - id: live\n    experiment: live.yaml\n    expect: held\n",
        );
        const t = await start(file, columns);
        // the same block as chaos run: phase and time, the fault's time left, the probe's last value, checks
        const screen = await t.waitFor(
          /● method · .*\n\s+⚡ .*s left\n\s+✓ the target answers its health check\s+200 in \d+ms.*during \d+\n\s+checks \d+ done, 0 failed/,
          20_000,
        );
        for (const l of screen.split("\n")) expect([...l].length).toBeLessThanOrEqual(columns);
        await t.press("C-c");
        expect(await t.exitCode()).toBe(3);
        const after = await t.screen();
        // the block is gone for good: the abort is said once, no stale block is drawn after it
        expect(after).not.toMatch(/● method|checks \d+ done|s left/);
        expect(after.match(/aborting the GameDay/g)).toHaveLength(1);
        expect(after).toMatch(/↺ resume pid \d+/);
        expect(after).toMatch(/GameDay: ABORTED \(exit 3/);
        for (const l of after.split("\n")) expect([...l].length).toBeLessThanOrEqual(columns);
      } finally {
        sleeper.kill("SIGCONT");
        sleeper.kill("SIGKILL");
      }
    },
    60_000,
  );
});

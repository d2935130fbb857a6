import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { GameDayRecord } from "../../src/gameday/record.js";
import { ensureCliBuilt, runCli, startCli, stopCli } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";

let dir: string;
let target: Target;

beforeAll(async () => {
  await ensureCliBuilt();
  dir = await mkdtemp(join(tmpdir(), "chaos-gameday-abort-if-"));
  target = await startTarget();
}, 180_000);

afterAll(async () => {
  await target?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("an abort-if that is met mid-fault rolls the experiment back and aborts the GameDay with exit 3", async () => {
  await writeFile(
    join(dir, "freeze.yaml"),
    `version: 1
title: the target is frozen for 30 s
method:
  - action: process.suspend
    target: { pid-file: "${target.pidFile}" }
    duration: 30s
`,
  );
  await writeFile(
    join(dir, "runbook.yaml"),
    `title: a GameDay with a safety net
steps:
  - id: frozen
    abort-if:
      name: the target is frozen
      probe: { process.running: { pid-file: "${target.pidFile}" } }
      when: false
      every: 200ms
  - id: freeze
    experiment: freeze.yaml
    expect: held
  - id: never
    manual: not reached
`,
  );
  const ledger = join(dir, "ledger");
  const started = Date.now();
  const r = await runCli(["gameday", "run", "runbook.yaml", "--yes", "--ledger", ledger, "--out", "record"], {
    cwd: dir,
    timeoutMs: 25_000,
  });
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
  expect(Date.now() - started, "aborted well before the 30 s fault would end").toBeLessThan(20_000);
  expect(target.state()).not.toBe("T");
  expect(await target.conts()).toBeGreaterThanOrEqual(1);
  expect(existsSync(ledger) ? readdirSync(ledger).filter((f) => f.endsWith(".json")) : []).toEqual([]);
  const record = JSON.parse(readFileSync(join(dir, "record", "gameday.json"), "utf8")) as GameDayRecord;
  expect(record.status).toBe("aborted");
  expect(record.aborted).toMatchObject({
    step: "freeze",
    reason: expect.stringContaining('abort-if "the target is frozen'),
  });
  expect(record.timeline.map((e) => [e.step, e.status])).toEqual([
    ["frozen", "done"],
    ["freeze", "aborted"],
  ]);
  expect(record.timeline[1]!.experiment?.outcome).toBe("aborted");
}, 40_000);

it.each(["SIGINT", "SIGTERM"] as const)(
  "a GameDay answered from a file and interrupted by %s mid-fault reverts it, exits 3 and records why",
  async (signal) => {
    await writeFile(
      join(dir, "freeze-long.yaml"),
      `version: 1\ntitle: frozen\nmethod:\n  - action: process.suspend\n    target: { pid-file: "${target.pidFile}" }\n    duration: 30s\n`,
    );
    await writeFile(
      join(dir, `signal-${signal}.yaml`),
      "title: interrupted\nsteps:\n  - { id: freeze, experiment: freeze-long.yaml, expect: held }\n  - { id: never, manual: not reached }\n",
    );
    const ledger = join(dir, `ledger-${signal}`);
    const out = join(dir, `record-${signal}`);
    const cli = startCli(
      ["gameday", "run", `signal-${signal}.yaml`, "--yes", "--ledger", ledger, "--out", out],
      {
        cwd: dir,
        timeoutMs: 25_000,
      },
    );
    try {
      await target.waitForState((s) => s === "T", 15_000);
      cli.child.kill(signal);
      const r = await cli.result;
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    } finally {
      await stopCli(cli);
    }
    expect(target.state()).not.toBe("T");
    expect(existsSync(ledger) ? readdirSync(ledger).filter((f) => f.endsWith(".json")) : []).toEqual([]);
    const record = JSON.parse(readFileSync(join(out, "gameday.json"), "utf8")) as GameDayRecord;
    expect(record).toMatchObject({
      status: "aborted",
      aborted: { step: "freeze", reason: `received ${signal}` },
    });
    expect(record.timeline.map((e) => [e.step, e.status])).toEqual([["freeze", "aborted"]]);
  },
  40_000,
);

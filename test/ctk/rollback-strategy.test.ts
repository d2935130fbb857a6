import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureCliBuilt, runCli } from "../support/cli.js";

/**
 * Chaos Toolkit's --rollback-strategy (chaoslib/run.py `run_rollback`) chooses whether the experiment's own
 * rollbacks run: each case runs a real experiment whose rollback leaves a file behind, as it is and after
 * `chaos import`, and both must agree on the verdict and on whether the rollback ran.
 */
const experiment = (breaks: boolean) => ({
  title: breaks ? "the file check breaks while the method runs" : "the file check holds",
  configuration: { dir: { type: "env", key: "CTK_DIR" } },
  "steady-state-hypothesis": {
    title: "nothing is broken",
    probes: [
      {
        type: "probe",
        name: "not broken",
        tolerance: 0,
        provider: { type: "process", path: "test", arguments: ["!", "-e", "${dir}/broken"] },
      },
    ],
  },
  method: [
    {
      type: "action",
      name: breaks ? "break it" : "touch nothing",
      provider: { type: "process", path: "sh", arguments: ["-c", breaks ? "touch ${dir}/broken" : "true"] },
      pauses: { after: 1.5 },
    },
    {
      type: "action",
      name: "mend it",
      provider: { type: "process", path: "rm", arguments: ["-f", "${dir}/broken"] },
      pauses: { after: 1 },
    },
  ],
  rollbacks: [
    {
      type: "action",
      name: "mark the rollback",
      provider: { type: "process", path: "touch", arguments: ["${dir}/rolled-back"] },
    },
  ],
});

interface Case {
  strategy: string;
  breaks: boolean;
  exit: number;
  rolledBack: boolean;
}

const CASES: Case[] = [
  { strategy: "default", breaks: false, exit: 0, rolledBack: true },
  { strategy: "default", breaks: true, exit: 1, rolledBack: false },
  { strategy: "always", breaks: true, exit: 1, rolledBack: true },
  { strategy: "never", breaks: false, exit: 0, rolledBack: false },
  { strategy: "deviated", breaks: false, exit: 0, rolledBack: false },
  { strategy: "deviated", breaks: true, exit: 1, rolledBack: true },
];

describe("--rollback-strategy", () => {
  let work: string;

  beforeAll(async () => {
    await ensureCliBuilt();
    work = mkdtempSync(join(tmpdir(), "chaos-ctk-rollbacks-"));
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  CASES.forEach((c, i) => {
    test(`${c.strategy}, ${c.breaks ? "deviating" : "holding"}: exit ${c.exit}, rollback ${c.rolledBack ? "run" : "not run"}; the same converted`, async () => {
      const file = join(work, `${i}.json`);
      writeFileSync(file, JSON.stringify(experiment(c.breaks), null, 2));
      const flags = [
        "--hypothesis-strategy",
        "continuously",
        "--hypothesis-frequency",
        "0.3",
        "--rollback-strategy",
        c.strategy,
      ];
      const run = async (f: string, extra: string[], label: string) => {
        const dir = join(work, `${i}-${label}`);
        mkdirSync(dir);
        const journal = join(dir, "journal.json");
        const r = await runCli(
          ["run", f, ...extra, "--no-reports", "--ledger", join(work, "ledger"), "--journal", journal],
          { env: { CTK_DIR: dir, XDG_STATE_HOME: join(work, "state") }, timeoutMs: 60_000 },
        );
        expect(r.code, r.stdout + r.stderr).toBe(c.exit);
        expect(existsSync(join(dir, "rolled-back")), r.stdout).toBe(c.rolledBack);
        const reasons = (JSON.parse(readFileSync(journal, "utf8")) as { reasons: string[] }).reasons;
        if (!c.rolledBack && c.strategy !== "never")
          expect(reasons.join("\n")).toMatch(/rollbacks not run \(rollbacks-when: (deviated|not-failed)\)/);
      };
      await run(file, flags, "ctk");
      const converted = join(work, `${i}.yaml`);
      const imported = await runCli(["import", file, "--out", converted, ...flags], {
        env: { CTK_DIR: work },
        timeoutMs: 60_000,
      });
      expect(imported.code, imported.stderr).toBe(0);
      await run(converted, [], "ours");
    }, 120_000);
  });
});

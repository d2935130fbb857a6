import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CliProcess, ensureCliBuilt, ROOT, startCli, stopCli } from "../support/cli.js";
import { startTarget, type Target } from "../support/target.js";

let dir: string;
let target: Target;
let cli: CliProcess | undefined;

beforeAll(ensureCliBuilt, 180_000);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-crash-"));
  target = await startTarget();
});

afterEach(async () => {
  await stopCli(cli);
  cli = undefined;
  await target.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("chaos run crashing mid-fault", () => {
  it("reverts the fault from the ledger, exits 4 and leaves the ledger empty", async () => {
    const file = join(dir, "freeze.yaml");
    const ledger = join(dir, "ledger");
    await writeFile(
      file,
      `version: 1
title: the target is frozen when the run crashes
method:
  - action: process.suspend
    target: { pid-file: "${target.pidFile}" }
    duration: 30s
`,
    );
    cli = startCli(
      ["run", file, "--ledger", ledger, "--journal", join(dir, "journal.json"), "--no-reports"],
      {
        timeoutMs: 25_000,
        env: {
          NODE_OPTIONS: `--require ${join(ROOT, "test", "support", "crash-when-frozen.cjs")}`,
          CHAOS_TEST_CRASH_WHEN_FROZEN: target.pidFile,
        },
      },
    );
    await target.waitForState((s) => s === "T", 10_000);
    const r = await cli.result;
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain("injected crash");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await target.waitForState((s) => s !== "T", 5_000)).not.toBe("T");
    expect((await target.get("/health")).status).toBe(200);
    expect(existsSync(ledger) ? readdirSync(ledger).filter((f) => f.endsWith(".json")) : []).toEqual([]);
  });
});

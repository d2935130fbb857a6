import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ToxiproxyServer } from "../../src/proxy/server.js";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import type { HostileServer } from "../support/hostile.js";
import {
  front,
  hostileCases,
  isDeleteToxic,
  ledgerEntries,
  realToxiproxy,
  runHostileCase,
  toxicsOn,
} from "../support/hostile-cases.js";

beforeAll(ensureCliBuilt, 180_000);

describe("chaos run against endpoints that misbehave", () => {
  it.each(hostileCases().map((c) => [c.name, c] as const))(
    "%s: ends in bounded time with the right exit code and nothing left behind",
    async (_name, c) => {
      const o = await runHostileCase(c);
      expect(o.code, o.output).toBe(c.exit);
      expect(o.ms, o.output).toBeLessThan(c.boundMs);
      if (c.status) {
        expect(o.journal, o.output).toMatchObject({ status: c.status, exitCode: c.exit });
        expect(o.journal!.reasons.join("\n")).toContain(c.reason);
        // The faults that went live, as many as the case makes, each reverted.
        const applied = o.journal!.faults.filter((x) => x.appliedAt);
        expect(applied, o.output).toHaveLength(c.applied);
        expect(applied.filter((f) => !f.revertedAt)).toEqual([]);
      } else {
        expect(o.journal).toBeUndefined();
        expect(o.output).toContain(c.reason);
      }
      expect(o.output).not.toMatch(/\n\s+at /);
      expect(o.toxicsLeft).toBe(0);
      expect(o.ledgerLeft).toBe(0);
    },
    40_000,
  );
});

describe("a Toxiproxy that stops answering while a fault is reverted", () => {
  let dir: string;
  let real: ToxiproxyServer;
  let hostile: HostileServer;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "chaos-hostile-revert-"));
    real = await realToxiproxy();
    hostile = await front(real, "hang", isDeleteToxic, false);
  });
  afterEach(async () => {
    await hostile.close();
    await real.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps the fault in the ledger, and chaos rollback ends in bounded time until it can revert it", async () => {
    const file = join(dir, "experiment.yaml");
    await writeFile(
      file,
      `version: 1
title: latency whose revert hangs
configuration:
  toxiproxy: { url: "${hostile.url}", timeout: 300ms }
method:
  - action: toxiproxy.latency
    target: { proxy: app }
    args: { latency: 100ms }
    duration: 200ms
`,
    );
    const ledger = join(dir, "ledger");
    let started = Date.now();
    const run = await runCli([
      "run",
      file,
      "--ledger",
      ledger,
      "--journal",
      join(dir, "j.json"),
      "--no-reports",
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.stdout).toContain("run chaos rollback");
    expect(await toxicsOn(real)).toBe(1);
    expect(ledgerEntries(ledger)).toBe(1);

    started = Date.now();
    const stuck = await runCli(["rollback", "--ledger", ledger], { timeoutMs: 20_000 });
    expect(stuck.code, stuck.stdout + stuck.stderr).toBe(4);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stuck.stdout).toContain("no answer within 300ms");
    expect(ledgerEntries(ledger)).toBe(1);

    hostile.turn("healthy");
    const done = await runCli(["rollback", "--ledger", ledger]);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(await toxicsOn(real)).toBe(0);
    expect(ledgerEntries(ledger)).toBe(0);
  }, 40_000);
});

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { ensureCliBuilt, ROOT, runCli, startCli } from "../support/cli.js";
import { deadPidFile, type Switch, startSwitch, startTarget, type Target } from "../support/target.js";

let dir: string;
let target: Target;
let toggle: Switch;

beforeAll(ensureCliBuilt, 180_000);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-verdicts-"));
  [target, toggle] = await Promise.all([startTarget(), startSwitch()]);
});

afterEach(async () => {
  await Promise.all([target.stop(), toggle.close()]);
  await rm(dir, { recursive: true, force: true });
});

const ledger = () => join(dir, "ledger");
const journalPath = () => join(dir, "runs", "journal.json");
const readJournal = () => JSON.parse(readFileSync(journalPath(), "utf8")) as Journal;
/** Any ledger entry or lease left behind (an empty `locks/` folder is all a finished run may leave). */
const ledgerExists = () =>
  existsSync(ledger()) &&
  readdirSync(ledger()).some((f) => f !== "locks" || readdirSync(join(ledger(), f)).length > 0);

async function write(yaml: string): Promise<string> {
  const file = join(dir, "experiment.yaml");
  await writeFile(file, yaml);
  return file;
}

/** `chaos run FILE` with this test's ledger and journal. */
function run(file: string, ...extra: string[]) {
  return runCli(["run", file, "--ledger", ledger(), "--journal", journalPath(), "--no-reports", ...extra], {
    timeoutMs: 25_000,
  });
}

/** Freezes the target for `frozen`, with the target's health as the steady state. */
function freezeExperiment(opts: { frozen: string; probe?: string; during?: string; extra?: string }): string {
  return `version: 1
title: the target survives a freeze
steady-state:
  probes:
    - name: target answers
      http: { url: "${opts.probe ?? `${target.url}/health`}", timeout: 300ms }
      tolerance: { status: 200 }
${opts.during ?? ""}
${opts.extra ?? ""}
method:
  - action: process.suspend
    name: freeze the target
    target: { pid-file: "${target.pidFile}" }
    duration: ${opts.frozen}
`;
}

describe("chaos run verdicts against a real process", () => {
  it("exits 0 when the hypothesis held, with the fault window and its revert in the journal", async () => {
    const r = await run(await write(freezeExperiment({ frozen: "300ms", during: "  during: none" })));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("HELD");
    const j = readJournal();
    expect(j).toMatchObject({ status: "held", exitCode: 0 });
    expect(j.reasons.join("\n")).toContain("held before and after the method (during: none");
    expect(j.steadyState.before).toHaveLength(1);
    expect(j.steadyState.before[0]).toMatchObject({
      probe: "target answers",
      ok: true,
      outcome: "pass",
      value: 200,
    });
    expect(j.steadyState.during).toEqual([]);
    expect(j.steadyState.after.length).toBeGreaterThanOrEqual(1);
    expect(j.steadyState.after.every((p) => p.ok)).toBe(true);
    expect(j.method).toHaveLength(1);
    expect(j.method[0]).toMatchObject({ name: "freeze the target", kind: "action", ref: "process.suspend" });
    expect(j.method[0]!.status).toBe("succeeded");
    expect(j.method[0]!.durationMs).toBeGreaterThanOrEqual(300);
    expect(j.faults).toHaveLength(1);
    const fault = j.faults[0]!;
    expect(fault.description).toContain(`resume pid ${target.pid}`);
    expect(Date.parse(fault.revertedAt!) - Date.parse(fault.appliedAt)).toBeGreaterThanOrEqual(250);
    expect(j.rollbacks).toEqual([expect.objectContaining({ source: "automatic", status: "succeeded" })]);
    expect(await target.conts()).toBe(1);
    expect(ledgerExists()).toBe(false);
  });

  it("exits 1 when the probe times out while the target is frozen (deviated)", async () => {
    const file = await write(freezeExperiment({ frozen: "1500ms", during: "  during: { every: 200ms }" }));
    const r = await run(file);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain("DEVIATED");
    const j = readJournal();
    expect(j).toMatchObject({ status: "deviated", exitCode: 1 });
    expect(j.reasons.some((x) => x.startsWith("hypothesis deviated during the method: target answers"))).toBe(
      true,
    );
    expect(j.steadyState.before.every((p) => p.ok)).toBe(true);
    const failed = j.steadyState.during.filter((p) => !p.ok);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    // The target not answering is what was measured: a deviation, not a blind probe.
    expect(failed[0]!.outcome).toBe("no-answer");
    expect(failed[0]!.reason).toMatch(/time|timed out/i);
    // Rolled back and recovered: the verdict is about the fault window only.
    expect(j.steadyState.after.at(-1)!.ok).toBe(true);
    expect(j.faults[0]!.revertedAt).toBeDefined();
    expect(j.rollbacks[0]!.status).toBe("succeeded");
    expect(ledgerExists()).toBe(false);
    expect((await target.get("/health")).status).toBe(200);
  });

  it("exits 1 when nothing was checked while the target was frozen, and says so", async () => {
    const r = await run(await write(freezeExperiment({ frozen: "300ms" })));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain("NOT OBSERVED");
    const j = readJournal();
    expect(j).toMatchObject({ status: "unobserved", exitCode: 1 });
    expect(j.reasons.join("\n")).toContain(
      'not observed: no hypothesis check was taken while "freeze the target" was live',
    );
    expect(j.faults[0]!.revertedAt).toBeDefined();
    expect(await target.conts()).toBe(1);
    expect(ledgerExists()).toBe(false);
  });

  it("exits 1 and injects nothing when the system is not steady before", async () => {
    toggle.set(503);
    const r = await run(await write(freezeExperiment({ frozen: "5s", probe: toggle.url })));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain("NOT STEADY");
    const j = readJournal();
    expect(j).toMatchObject({ status: "not-steady", exitCode: 1 });
    expect(j.reasons[0]).toContain("not steady before: target answers: status 503 is not 200");
    expect(j.steadyState.before[0]).toMatchObject({ ok: false, outcome: "fail", value: 503 });
    expect(j.steadyState.after).toEqual([]);
    expect(j.method).toEqual([]);
    expect(j.faults).toEqual([]);
    expect(j.rollbacks).toEqual([]);
    // The ledger folder was never even created, and the target never received a SIGSTOP/SIGCONT pair.
    expect(existsSync(ledger())).toBe(false);
    expect(await target.conts()).toBe(0);
  });

  it("exits 3 when a stop condition is met, and still resumes the target", async () => {
    const file = await write(
      freezeExperiment({
        frozen: "30s",
        extra: `stop-when:
  - name: kill switch
    probe:
      http: { url: "${toggle.url}", timeout: 1s }
    when: { status: 503 }
    every: 100ms`,
      }),
    );
    const cli = startCli(["run", file, "--ledger", ledger(), "--journal", journalPath(), "--no-reports"], {
      timeoutMs: 25_000,
    });
    try {
      await target.waitForState((s) => s === "T", 10_000);
      toggle.set(503);
      const r = await cli.result;
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stdout).toContain("ABORTED");
    } finally {
      cli.child.kill("SIGKILL");
    }
    await target.waitForState((s) => s !== "T", 2000);
    const j = readJournal();
    expect(j).toMatchObject({ status: "aborted", exitCode: 3 });
    expect(j.reasons[0]).toContain('stop condition "kill switch" met');
    expect(j.aborted?.reason).toContain("kill switch");
    expect(j.stopConditions.length).toBeGreaterThanOrEqual(2);
    expect(j.stopConditions[0]).toMatchObject({ probe: "kill switch", ok: true });
    expect(j.stopConditions.at(-1)).toMatchObject({ probe: "kill switch", ok: false, value: 503 });
    expect(j.method[0]).toMatchObject({ status: "aborted" });
    expect(j.method[0]!.durationMs).toBeLessThan(20_000);
    expect(j.faults[0]!.revertedAt).toBeDefined();
    expect(j.rollbacks).toEqual([expect.objectContaining({ status: "succeeded" })]);
    expect(ledgerExists()).toBe(false);
    expect((await target.get("/health")).status).toBe(200);
  });

  it("exits 4 when an action fails, with the failure in the journal and nothing left behind", async () => {
    const pidFile = await deadPidFile(dir);
    const file = await write(`version: 1
title: freeze a process that is gone
method:
  - action: process.suspend
    name: freeze the gone process
    target: { pid-file: "${pidFile}" }
    duration: 5s
  - pause: 5s
`);
    const r = await run(file);
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toContain("ERROR");
    const j = readJournal();
    expect(j).toMatchObject({ status: "error", exitCode: 4 });
    expect(j.method[0]).toMatchObject({ name: "freeze the gone process", status: "failed" });
    expect(j.method[0]!.error).toContain(`no process matches pid-file ${pidFile}`);
    // The run stopped at the failure: the following pause never ran.
    expect(j.method[1]).toMatchObject({ kind: "pause", status: "skipped" });
    expect(j.reasons.join("\n")).toContain('step "freeze the gone process" failed');
    expect(j.faults).toEqual([]);
    expect(existsSync(ledger())).toBe(false);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 2 before injecting anything when the journal cannot be written", async () => {
    const file = await write(freezeExperiment({ frozen: "300ms" }));
    await writeFile(join(dir, "a-file"), "");
    const r = await runCli(
      ["run", file, "--ledger", ledger(), "--journal", join(dir, "a-file", "journal.json"), "--no-reports"],
      { timeoutMs: 25_000 },
    );
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(`cannot write the journal in ${join(dir, "a-file")}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toContain("method");
    expect(await target.conts()).toBe(0);
    expect(existsSync(ledger())).toBe(false);
  });

  it("exits 2 for an invalid experiment and writes no journal", async () => {
    const r = await run(join(ROOT, "test", "fixtures", "malformed", "unknown-action.yaml"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown-action.yaml:5:13: method[0].action: unknown action "process.suspnd"');
    expect(existsSync(journalPath())).toBe(false);
    expect(existsSync(ledger())).toBe(false);
  });
});

describe("chaos commands that must touch nothing", () => {
  it("plan prints every step and leaves the target running", async () => {
    const file = await write(freezeExperiment({ frozen: "5s", during: "  during: { every: 1s }" }));
    const r = await runCli(["plan", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("plan: the target survives a freeze");
    expect(r.stdout).toContain("target answers");
    expect(r.stdout).toMatch(
      /1\. process\.suspend "freeze the target" · target \{ pid-file: .* \} · reverted after 5s/,
    );
    expect(r.stdout).toContain("checked every 1s during the method");
    expect(await target.conts()).toBe(0);
    expect(target.state()).not.toBe("T");
    expect(existsSync(ledger())).toBe(false);
  });

  it("run --dry-run validates, prints the plan and injects nothing", async () => {
    const r = await run(await write(freezeExperiment({ frozen: "5s" })), "--dry-run");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("plan: the target survives a freeze");
    expect(r.stdout).toContain("nothing was injected");
    expect(await target.conts()).toBe(0);
    expect(existsSync(ledger())).toBe(false);
    expect(existsSync(journalPath())).toBe(false);
  });
});

describe("chaos command line", () => {
  it("agents lists process.suspend with its target arguments", async () => {
    const r = await runCli(["agents"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    const at = lines.findIndex((l) => l.includes("action process.suspend"));
    expect(at).toBeGreaterThanOrEqual(0);
    const block = lines.slice(at + 1, at + 10).join("\n");
    expect(block).toContain("target.pid-file?: string");
    expect(block).toContain("target.port?: integer");
    const json = await runCli(["agents", "--json"]);
    const agents = JSON.parse(json.stdout) as {
      agent: string;
      actions: { name: string; target?: unknown }[];
    }[];
    const suspend = agents
      .find((a) => a.agent === "process")
      ?.actions.find((a) => a.name === "process.suspend");
    expect(suspend?.target).toMatchObject({ properties: { "pid-file": { type: "string" } } });
  });

  it("--version prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it("--help shows the commands, examples and exit codes", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "chaos run [files..]",
      "chaos validate",
      "chaos rollback",
      "Examples:",
      "exit codes: 0 held",
    ])
      expect(r.stdout).toContain(text);
  });

  it("an unknown command exits 2 with a pointer to --help", async () => {
    const r = await runCli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("frobnicate");
    expect(r.stderr).toContain("--help");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("no command at all exits 2", async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("name a command");
  });

  it("chaos rollback with a ledger path that is not a folder exits 2 with one line", async () => {
    const r = await runCli(["rollback", "--ledger", "/etc/passwd"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the ledger \/etc\/passwd is not a folder/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

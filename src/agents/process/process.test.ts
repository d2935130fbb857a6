import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterEach, describe, expect, it } from "vitest";
import { testContext } from "../../../test/support/agent-context.js";
import { ChaosError } from "../../experiments/errors.js";
import type { PreparedFault, RevertDescription } from "../agent.js";
import { processAgent } from "./index.js";
import { readStat } from "./proc.js";

const context = () => testContext();

const IDLE = "setInterval(() => {}, 1000)";
const SERVER = `
  const server = require("node:net").createServer((s) => s.end());
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
  setInterval(() => {}, 1000);`;
const IGNORES_TERM = `process.on("SIGTERM", () => {}); console.log("ready"); ${IDLE}`;

/** Every pid a test started (children and restarted, detached processes), killed after each test. */
const started = new Set<number>();
/** Temporary files and folders, removed after each test. */
const leftovers = new Set<string>();

afterEach(async () => {
  for (const pid of started) {
    for (const signal of ["SIGCONT", "SIGKILL"] as const) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }
  started.clear();
  for (const path of leftovers) rmSync(path, { recursive: true, force: true });
  leftovers.clear();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "chaoskit-pid-"));
  leftovers.add(dir);
  return dir;
}

/** A unique word on a child's command line, so that `name` targets never see other suites' children. */
function marker(): string {
  return `chaoskit-test-${randomUUID()}`;
}

async function spawnNode(
  script: string,
  mark = marker(),
): Promise<{ child: ChildProcess; pid: number; mark: string }> {
  const child = spawn(process.execPath, ["-e", script, mark], { stdio: ["ignore", "pipe", "ignore"] });
  await once(child, "spawn");
  started.add(child.pid!);
  return { child, pid: child.pid!, mark };
}

async function spawnServer(): Promise<{ child: ChildProcess; pid: number; port: number }> {
  const { child, pid } = await spawnNode(SERVER);
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  return { child, pid, port: Number(line.toString().trim()) };
}

/** Polls /proc until the process's state satisfies `ok` (a signal takes effect asynchronously). */
async function waitForState(
  pid: number,
  ok: (state: string | undefined) => boolean,
): Promise<string | undefined> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const state = (await readStat(pid))?.state;
    if (ok(state) || Date.now() > deadline) return state;
    await sleep(20);
  }
}

async function exitOf(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.signalCode;
  const [, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  return signal;
}

async function prepare(action: string, target: Record<string, unknown>, args: Record<string, unknown> = {}) {
  return processAgent.actions[action]!.prepare({ target, args }, context());
}

async function prepareError(
  action: string,
  target: Record<string, unknown>,
  args: Record<string, unknown> = {},
) {
  try {
    await prepare(action, target, args);
  } catch (err) {
    expect(err).toBeInstanceOf(ChaosError);
    return err as ChaosError;
  }
  throw new Error("prepare did not throw");
}

/** What `chaos rollback` sees: the description after a trip through the JSON ledger. */
function fromLedger(fault: PreparedFault): RevertDescription {
  expect(fault.revert).toBeDefined();
  return JSON.parse(JSON.stringify(fault.revert));
}

const running = (args: Record<string, unknown>) => processAgent.probes.running!.run(args, context());

describe("schemas", () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });

  it("require exactly one way to name the process", () => {
    const validate = ajv.compile(processAgent.probes.running!.args);
    expect(validate({ port: 8080 })).toBe(true);
    expect(validate({ name: "payments", all: true })).toBe(true);
    expect(validate({})).toBe(false);
    expect(validate({ pid: 1, port: 8080 })).toBe(false);
    expect(validate({ pid: 1, command: "x" })).toBe(false);
    expect(validate({ pid: 1, start: "node server.js" })).toBe(false);
  });

  it("require start for restart only", () => {
    const restart = ajv.compile(processAgent.actions.restart!.target!);
    expect(restart({ pid: 1, start: ["node", "server.js"] })).toBe(true);
    expect(restart({ pid: 1 })).toBe(false);
    expect(ajv.compile(processAgent.actions.kill!.target!)({ pid: 1 })).toBe(true);
    expect(ajv.compile(processAgent.actions.kill!.args)({ signal: "SIGUSR1" })).toBe(true);
    expect(ajv.compile(processAgent.actions.kill!.args)({ signal: "sigterm" })).toBe(false);
  });
});

describe("targets", () => {
  it("find a process by pid", async () => {
    const { pid } = await spawnNode(IDLE);
    const result = await running({ pid });
    expect(result.value).toBe(true);
    expect(result.fields).toMatchObject({ count: 1, pids: [pid] });
  });

  it("find a process by pid-file", async () => {
    const { pid } = await spawnNode(IDLE);
    const tmp = tempDir();
    const pidFile = join(tmp, "app.pid");
    writeFileSync(pidFile, `${pid}\n`);
    expect((await running({ "pid-file": pidFile })).fields?.pids).toEqual([pid]);
  });

  it("treat a missing pid-file as no process, and a malformed one as an error", async () => {
    const tmp = tempDir();
    const missing = join(tmp, "missing.pid");
    expect((await running({ "pid-file": missing })).value).toBe(false);
    const err = await prepareError("kill", { "pid-file": missing });
    expect(err.message).toBe(`no process matches pid-file ${missing}`);
    writeFileSync(join(tmp, "bad.pid"), "not a pid");
    await expect(running({ "pid-file": join(tmp, "bad.pid") })).rejects.toMatchObject({ code: "agent" });
  });

  it("find a process by a regex over its command line", async () => {
    const { pid, mark } = await spawnNode(IDLE);
    expect((await running({ name: `-e .* ${mark}$` })).fields?.pids).toEqual([pid]);
  });

  it("never match this process or its ancestors by name", async () => {
    const own = process.argv.slice(1).join(" ");
    const pattern = own.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const result = await running({ name: pattern });
    expect(result.fields?.pids).not.toContain(process.pid);
    expect(result.fields?.pids).not.toContain(process.ppid);
  });

  it("find the process listening on a TCP port", async () => {
    const { pid, port } = await spawnServer();
    expect((await running({ port })).fields?.pids).toEqual([pid]);
  });

  it("report a target that matches nothing with a hint", async () => {
    const err = await prepareError("suspend", { name: marker() });
    expect(err.code).toBe("agent");
    expect(err.message).toMatch(/^no process matches name \/chaoskit-test-.*\/$/);
    expect(err.hint).toContain("running");
  });

  it("list the matches and refuse to act on several without all: true", async () => {
    const mark = marker();
    const a = await spawnNode(IDLE, mark);
    const b = await spawnNode(IDLE, mark);
    const err = await prepareError("kill", { name: mark });
    expect(err.message).toContain("2 processes match");
    expect(err.message).toContain(`${a.pid} (node)`);
    expect(err.message).toContain(`${b.pid} (node)`);
    expect(err.hint).toContain("all: true");

    const fault = await prepare("kill", { name: mark, all: true }, { signal: "SIGKILL" });
    const output = (await fault.apply()) as { signalled: number[] };
    expect(output.signalled.sort()).toEqual([a.pid, b.pid].sort());
    expect(await exitOf(a.child)).toBe("SIGKILL");
    expect(await exitOf(b.child)).toBe("SIGKILL");
  });

  it("pick a seeded subset with select, and refuse one beyond the blast-radius cap", async () => {
    const mark = marker();
    const procs = [await spawnNode(IDLE, mark), await spawnNode(IDLE, mark), await spawnNode(IDLE, mark)];
    const pids = procs.map((p) => p.pid);
    const target = { name: mark, select: { mode: "count", count: 2, seed: 7 } };
    const first = (await prepare("suspend", target)).revert!.data.processes as { pid: number }[];
    const again = (await prepare("suspend", target)).revert!.data.processes as { pid: number }[];
    expect(first.map((p) => p.pid)).toEqual(again.map((p) => p.pid));
    expect(first).toHaveLength(2);
    for (const p of first) expect(pids).toContain(p.pid);

    const fault = await prepare("suspend", target);
    await fault.apply();
    const states = await Promise.all(
      pids.map((pid) => waitForState(pid, (s) => s === "T" || first.every((f) => f.pid !== pid))),
    );
    expect(states.filter((s) => s === "T")).toHaveLength(2);
    await processAgent.revert(fromLedger(fault), context());

    const err = await prepareError("kill", { name: mark, select: { mode: "all", max: 2 } });
    expect(err.message).toContain("would touch 3 targets, more than max 2");
    for (const pid of pids) expect((await readStat(pid))?.state).not.toBe("Z");
  });

  it("refuse to act on the chaos process itself", async () => {
    const err = await prepareError("suspend", { pid: process.pid });
    expect(err.code).toBe("invalid");
  });

  it("reject a name that is not a regex", async () => {
    await expect(running({ name: "(" })).rejects.toMatchObject({ code: "invalid" });
    expect(processAgent.probes.running!.check!({ name: "(" })).toHaveLength(1);
  });
});

describe("suspend", () => {
  it("stops the process and describes the revert as plain data", async () => {
    const { pid } = await spawnNode(IDLE);
    const fault = await prepare("suspend", { pid });
    // prepare touches nothing
    expect((await readStat(pid))?.state).not.toBe("T");
    const revert = fromLedger(fault);
    expect(revert).toMatchObject({
      agent: "process",
      kind: "resume",
      description: `resume pid ${pid} (node)`,
    });
    const startTime = (await readStat(pid))?.startTime;
    expect(revert.data.processes).toEqual([{ pid, startTime, comm: "node" }]);

    expect(await fault.apply()).toEqual({ suspended: [pid], gone: [] });
    expect(await waitForState(pid, (s) => s === "T")).toBe("T");
  });

  it("is undone by revert, and reverting twice equals once", async () => {
    const { pid } = await spawnNode(IDLE);
    const fault = await prepare("suspend", { pid });
    await fault.apply();
    await waitForState(pid, (s) => s === "T");
    const revert = fromLedger(fault);

    await processAgent.revert(revert, context());
    expect(await waitForState(pid, (s) => s !== "T")).toMatch(/[RS]/);
    await processAgent.revert(revert, context());
    expect(await waitForState(pid, (s) => s !== "T")).toMatch(/[RS]/);
    expect((await running({ pid })).value).toBe(true);
  });

  it("reverts successfully when the process has died meanwhile", async () => {
    const { child, pid } = await spawnNode(IDLE);
    const fault = await prepare("suspend", { pid });
    await fault.apply();
    child.kill("SIGKILL");
    await exitOf(child);
    await expect(processAgent.revert(fromLedger(fault), context())).resolves.toBeUndefined();
  });

  it("does not resume a different process that reused the pid", async () => {
    const { pid } = await spawnNode(IDLE);
    const fault = await prepare("suspend", { pid });
    await fault.apply();
    await waitForState(pid, (s) => s === "T");
    const revert = fromLedger(fault);
    // Same pid, another start time: what a reused pid looks like to the revert.
    const [recorded] = revert.data.processes as { startTime: number }[];
    recorded!.startTime += 1;
    await processAgent.revert(revert, context());
    await sleep(100);
    expect((await readStat(pid))?.state).toBe("T");
  });

  it("does not resume anything recorded during another boot", async () => {
    const { pid } = await spawnNode(IDLE);
    const fault = await prepare("suspend", { pid });
    await fault.apply();
    await waitForState(pid, (s) => s === "T");
    const revert = fromLedger(fault);
    revert.data.bootId = "00000000-0000-0000-0000-000000000000";
    await processAgent.revert(revert, context());
    await sleep(100);
    expect((await readStat(pid))?.state).toBe("T");
  });

  it("refuses to revert an unknown kind or malformed data", async () => {
    await expect(
      processAgent.revert({ agent: "process", kind: "unsuspend", description: "x", data: {} }, context()),
    ).rejects.toMatchObject({ code: "agent", hint: "known kinds: resume, start" });
    await expect(
      processAgent.revert(
        { agent: "process", kind: "resume", description: "x", data: { processes: [{ pid: "1" }] } },
        context(),
      ),
    ).rejects.toMatchObject({ code: "agent" });
  });
});

describe("kill", () => {
  it("sends SIGTERM by default", async () => {
    const { child, pid } = await spawnNode(IDLE);
    const fault = await prepare("kill", { pid });
    expect(fault.revert).toBeUndefined();
    expect(await fault.apply()).toEqual({ signal: "SIGTERM", signalled: [pid], gone: [] });
    expect(await exitOf(child)).toBe("SIGTERM");
  });

  it("sends the signal given, found by port", async () => {
    const { child, pid, port } = await spawnServer();
    const fault = await prepare("kill", { port }, { signal: "SIGKILL" });
    expect(await fault.apply()).toMatchObject({ signalled: [pid] });
    expect(await exitOf(child)).toBe("SIGKILL");
    expect((await running({ port })).value).toBe(false);
  });

  it("rejects an unknown signal", async () => {
    const { pid } = await spawnNode(IDLE);
    const err = await prepareError("kill", { pid }, { signal: "SIGNOPE" });
    expect(err.code).toBe("invalid");
  });
});

describe("resume", () => {
  it("continues a stopped process and leaves nothing to revert", async () => {
    const { pid } = await spawnNode(IDLE);
    process.kill(pid, "SIGSTOP");
    await waitForState(pid, (s) => s === "T");
    const fault = await prepare("resume", { pid });
    expect(fault.revert).toBeUndefined();
    await fault.apply();
    expect(await waitForState(pid, (s) => s !== "T")).toMatch(/[RS]/);
  });
});

describe("restart", () => {
  it("stops the process and starts target.start, reporting the new pid", async () => {
    const { child, pid, mark } = await spawnNode(IDLE);
    const target = { name: mark, start: [process.execPath, "-e", IDLE, mark] };
    const fault = await prepare("restart", target);
    const output = (await fault.apply()) as { pid: number; signalled: number[]; killed: number[] };
    started.add(output.pid);
    expect(output.signalled).toEqual([pid]);
    expect(output.killed).toEqual([]);
    expect(output.pid).not.toBe(pid);
    expect(await exitOf(child)).toBe("SIGTERM");
    const after = await running({ name: mark });
    expect(after.value).toBe(true);
    expect(after.fields?.pids).toEqual([output.pid]);
  });

  it("leaves no log file in the temp folder", async () => {
    const before = new Set(readdirSync(tmpdir()));
    const { mark } = await spawnNode(IDLE);
    const fault = await prepare("restart", { name: mark, start: [process.execPath, "-e", IDLE, mark] });
    started.add(((await fault.apply()) as { pid: number }).pid);
    const added = readdirSync(tmpdir()).filter((f) => !before.has(f) && f.startsWith("chaoskit-restart"));
    expect(added).toEqual([]);
  });

  it("describes a revert that starts the service again, with absolute paths and no secret", async () => {
    const { pid, mark } = await spawnNode(IDLE);
    const ctx = testContext({ secrets: { token: "s3cr3t-value" } });
    const fault = await processAgent.actions.restart!.prepare(
      {
        target: {
          pid,
          start: [process.execPath, "-e", IDLE, mark],
          cwd: ".",
          env: { PORT: "8080", AUTH: "Bearer s3cr3t-value" },
        },
        args: {},
      },
      ctx,
    );
    const revert = fromLedger(fault);
    expect(revert).toMatchObject({ agent: "process", kind: "start" });
    expect(revert.data).toMatchObject({ cwd: process.cwd(), env: { PORT: "8080" }, withheld: ["AUTH"] });
    expect(JSON.stringify(revert)).not.toContain("s3cr3t-value");
    expect(fault.locks).toEqual([expect.stringMatching(new RegExp(`^process:.+:${pid}:\\d+$`))]);
  });

  it("is reverted by starting the service when a crash came between the stop and the start", async () => {
    const { child, pid, mark } = await spawnNode(IDLE);
    const fault = await prepare("restart", { pid, start: [process.execPath, "-e", IDLE, mark] });
    const revert = fromLedger(fault);
    // The stop happened, the start never did: as if the run was killed in between.
    child.kill("SIGTERM");
    await exitOf(child);
    expect((await running({ name: mark })).value).toBe(false);
    await processAgent.revert(revert, context());
    const after = await running({ name: mark });
    expect(after.value).toBe(true);
    for (const p of (after.fields?.pids ?? []) as number[]) started.add(p);
    // Idempotent: it runs now, so a second revert starts nothing.
    await processAgent.revert(revert, context());
    expect((await running({ name: mark })).fields?.count).toBe(1);
  });

  it("is not reverted by a second start once the restart completed", async () => {
    const { mark } = await spawnNode(IDLE);
    const fault = await prepare("restart", { name: mark, start: [process.execPath, "-e", IDLE, mark] });
    const output = (await fault.apply()) as { pid: number };
    started.add(output.pid);
    expect(fromLedger(fault).data.started).toMatchObject({ pid: output.pid });
    await processAgent.revert(fromLedger(fault), context());
    expect((await running({ name: mark })).fields?.pids).toEqual([output.pid]);
  });

  it("kills a process that ignores the signal once grace is over", async () => {
    const { child, pid, mark } = await spawnNode(IGNORES_TERM);
    // The child prints once its SIGTERM handler is installed; signalling earlier would kill it outright.
    await once(child.stdout!, "data");
    const fault = await prepare(
      "restart",
      { pid, start: [process.execPath, "-e", IDLE, mark] },
      { grace: "200ms" },
    );
    const output = (await fault.apply()) as { pid: number; killed: number[] };
    started.add(output.pid);
    expect(output.killed).toEqual([pid]);
    expect(await exitOf(child)).toBe("SIGKILL");
    expect((await running({ pid: output.pid })).value).toBe(true);
  });

  it("needs target.start", async () => {
    const { pid } = await spawnNode(IDLE);
    const err = await prepareError("restart", { pid });
    expect(err.code).toBe("invalid");
    expect(err.message).toContain("target.start");
  });

  it("reports a start program that cannot be run", async () => {
    const { pid } = await spawnNode(IDLE);
    const fault = await prepare("restart", { pid, start: ["/nonexistent/chaoskit-binary"] });
    await expect(fault.apply()).rejects.toMatchObject({
      code: "agent",
      message: expect.stringContaining("starting /nonexistent/chaoskit-binary failed"),
    });
  });
});

describe("running probe", () => {
  it("is true for a live process, with count, pids and states", async () => {
    const { pid } = await spawnNode(IDLE);
    const result = await running({ pid });
    expect(result.value).toBe(true);
    expect(result.fields?.count).toBe(1);
    expect(result.fields?.states).toEqual([expect.stringMatching(/[RS]/)]);
    expect(result.summary).toMatch(/^1 of 1 running \(\d+ [RS]\)$/);
  });

  it("is false for a stopped process", async () => {
    const { pid } = await spawnNode(IDLE);
    process.kill(pid, "SIGSTOP");
    await waitForState(pid, (s) => s === "T");
    const result = await running({ pid });
    expect(result.value).toBe(false);
    expect(result.fields).toEqual({ count: 1, pids: [pid], states: ["T"] });
  });

  it("is true when one of several matches still runs", async () => {
    const mark = marker();
    const a = await spawnNode(IDLE, mark);
    await spawnNode(IDLE, mark);
    process.kill(a.pid, "SIGSTOP");
    await waitForState(a.pid, (s) => s === "T");
    const result = await running({ name: mark });
    expect(result.value).toBe(true);
    expect(result.fields?.count).toBe(2);
  });

  it("is false, not an error, when nothing matches", async () => {
    const { child, pid } = await spawnNode(IDLE);
    child.kill("SIGKILL");
    await exitOf(child);
    const result = await running({ pid });
    expect(result).toMatchObject({ value: false, fields: { count: 0, pids: [], states: [] } });
    expect(result.summary).toBe("no process matches");
    expect((await running({ name: marker() })).value).toBe(false);
  });

  it("is the agent's default probe", () => {
    expect(processAgent.defaultProbe).toBe("running");
  });
});

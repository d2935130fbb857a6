import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { ensureCliBuilt, runCli } from "../support/cli.js";
import { httpGet, startTarget, type Target } from "../support/target.js";

/**
 * A healthy service as the process-kill template expects it: a supervisor (Node's cluster primary) that
 * restarts its worker when it dies, on the same port; the worker writes its pid to a pid file.
 */
const SUPERVISED = `
const cluster = require("node:cluster");
const http = require("node:http");
const fs = require("node:fs");
const [pidFile, portFile] = process.argv.slice(2);
if (cluster.isPrimary) {
  // A free port, chosen once: every worker, the restarted ones too, listens on it.
  const probe = require("node:net").createServer().listen(0, "127.0.0.1", () => {
    const env = { PORT: String(probe.address().port) };
    probe.close(() => {
      cluster.on("exit", () => cluster.fork(env));
      cluster.fork(env);
    });
  });
} else {
  const server = http.createServer((req, res) => res.end("ok"));
  server.listen(Number(process.env.PORT), "127.0.0.1", () => {
    fs.writeFileSync(pidFile, String(process.pid));
    fs.writeFileSync(portFile, String(server.address().port));
  });
}
`;

let work: string;
const children: ChildProcess[] = [];
const targets: Target[] = [];

beforeAll(async () => {
  await ensureCliBuilt();
  work = await mkdtemp(join(tmpdir(), "chaos-templates-hold-"));
}, 180_000);
afterAll(async () => {
  for (const c of children) {
    try {
      // the cluster primary's group: the supervisor and whichever worker is alive
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      // gone already
    }
  }
  for (const t of targets) await t.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function until<T>(read: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Writes a template from flags, checks that chaos validate passes it without a warning, and runs it. */
async function writeValidateRun(name: string, flags: string[]): Promise<Journal> {
  const file = join(work, `${name}.yaml`);
  const init = await runCli(["init", "--template", name, "--out", file, ...flags]);
  expect(init.code, init.stderr).toBe(0);
  const v = await runCli(["validate", file]);
  expect(v.code, v.stderr).toBe(0);
  expect(v.stdout).not.toContain("warning");
  const journal = join(work, name, "journal.json");
  const r = await runCli(["run", file, "--journal", journal, "--ledger", join(work, `ledger-${name}`)], {
    cwd: work,
    timeoutMs: 90_000,
  });
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return JSON.parse(readFileSync(journal, "utf8")) as Journal;
}

describe("every chaos init template written from flags holds against a healthy target", () => {
  it.concurrent("process-kill: a supervised service comes back after its process is killed", async () => {
    const dir = await mkdtemp(join(work, "supervised-"));
    const [pidFile, portFile] = [join(dir, "worker.pid"), join(dir, "port")];
    const script = join(dir, "supervisor.cjs");
    await writeFile(script, SUPERVISED);
    const child = spawn(process.execPath, [script, pidFile, portFile], { stdio: "ignore", detached: true });
    children.push(child);
    const port = await until(() => {
      try {
        return Number(readFileSync(portFile, "utf8")) || undefined;
      } catch {
        return undefined;
      }
    }, "the supervised service");
    const firstWorker = readFileSync(pidFile, "utf8");
    const j = await writeValidateRun("process-kill", [
      "--url",
      `http://127.0.0.1:${port}/`,
      "--target",
      pidFile,
    ]);
    expect(j.status).toBe("held");
    expect(j.method.find((a) => a.name === "kill the process")?.status).toBe("succeeded");
    // it really was killed and restarted: another worker answers now
    expect(readFileSync(pidFile, "utf8")).not.toBe(firstWorker);
    expect((await httpGet(`http://127.0.0.1:${port}/`)).status).toBe(200);
  }, 120_000);

  it.concurrent("http-availability: the service keeps answering while another of its processes is frozen", async () => {
    const [service, worker] = [await startTarget(), await startTarget()];
    targets.push(service, worker);
    const j = await writeValidateRun("http-availability", [
      "--url",
      `${service.url}/health`,
      "--target",
      worker.pidFile,
    ]);
    expect(j.status).toBe("held");
    expect(j.steadyState.during.length).toBeGreaterThan(5);
    expect(await worker.conts()).toBe(1); // frozen, then thawed
  }, 120_000);
});

import { type ChildProcess, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Journal } from "../../src/experiments/journal.js";
import { ensureCliBuilt, runCli, startCli } from "../support/cli.js";
import { procState, type Switch, startSwitch } from "../support/target.js";

const SECRET = "hook-signing-secret-4f9a2c";
const SLACK_PATH = "/services/T000/B000/slack-token-7d1e";

let dir: string;
let toggle: Switch;
let sleeper: ChildProcess;
let sleeperPidFile: string;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1: records every request; `mode` says how it answers. */
async function receiver(mode: "ok" | "hanging" | "failing" = "ok") {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      got.push({ path: req.url ?? "", headers: req.headers, body });
      if (mode === "ok") res.writeHead(200).end("ok");
      else if (mode === "failing") res.writeHead(500).end("down");
      // hanging: never answers
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    got,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

beforeAll(ensureCliBuilt, 180_000);

beforeAll(async () => {
  toggle = await startSwitch();
  sleeper = spawn("sleep", ["300"], { stdio: "ignore" });
});

afterAll(async () => {
  sleeper.kill("SIGKILL");
  await toggle.close();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-notify-"));
  sleeperPidFile = join(dir, "sleeper.pid");
  await writeFile(sleeperPidFile, String(sleeper.pid));
  toggle.set(200);
});

afterEach(async () => {
  if (!process.env.KEEP) await rm(dir, { recursive: true, force: true });
});

const journalPath = () => join(dir, "journal.json");
const readJournal = () => JSON.parse(readFileSync(journalPath(), "utf8")) as Journal;
const args = () => ["--ledger", join(dir, "ledger"), "--journal", journalPath(), "--no-reports"];
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  XDG_CONFIG_HOME: join(dir, "config"),
  CHAOS_PUSHGATEWAY_URL: "",
  HOOK_SECRET: SECRET,
  ...extra,
});

async function settings(text: string): Promise<void> {
  await mkdir(join(dir, "config", "chaoskit"), { recursive: true });
  await writeFile(join(dir, "config", "chaoskit", "settings.yaml"), text);
}

async function write(body: string): Promise<string> {
  const file = join(dir, "experiment.yaml");
  await writeFile(file, `version: 1\ntitle: notified run\n${body}`);
  return file;
}

const freeze = (duration?: string) =>
  `  - action: process.suspend
    name: freeze the sleeper
    target: { pid-file: "${sleeperPidFile}" }
${duration ? `    duration: ${duration}\n` : ""}`;

/** Every file the run wrote (journal, run.log, ledger), as one text; not the test's own settings. */
async function everythingWritten(): Promise<string> {
  let all = "";
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== "config") await walk(p);
      } else all += readFileSync(p, "utf8");
    }
  };
  await walk(dir);
  return all;
}

describe("notifications", () => {
  it("signs each event of an aborted run for a webhook and tells Slack in words; no secret is written", async () => {
    const hook = await receiver();
    try {
      await settings(
        `notifications:\n  - { slack: "${hook.url}${SLACK_PATH}", report-url: "https://ci.example/chaos" }\n`,
      );
      const file = await write(`secrets:
  hook: { env: HOOK_SECRET }
notifications:
  - { webhook: "${hook.url}/chaos", secret: "\${secrets.hook}" }
stop-when:
  - name: kill switch
    probe:
      http: { url: "${toggle.url}", timeout: 1s }
    when: { status: 503 }
    every: 100ms
method:
${freeze()}  - pause: 20s
`);
      const cli = startCli(["run", file, ...args()], { env: env(), timeoutMs: 30_000 });
      for (let i = 0; i < 300 && procState(sleeper.pid!) !== "T"; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(procState(sleeper.pid!)).toBe("T");
      toggle.set(503);
      const r = await cli.result;
      expect(r.code, r.stdout + r.stderr).toBe(3);
      const j = readJournal();
      expect(j.notSent).toBeUndefined();

      const webhook = hook.got.filter((g) => g.path === "/chaos");
      for (const g of webhook) {
        const expected = `sha256=${createHmac("sha256", SECRET).update(g.body).digest("hex")}`;
        expect(g.headers["x-chaos-signature"]).toBe(expected);
        expect(g.headers["content-type"]).toBe("application/json");
      }
      const notices = webhook.map((g) => JSON.parse(g.body) as Record<string, unknown>);
      expect(notices.map((n) => n.event)).toEqual([
        "run.started",
        "fault.applied",
        "stop-condition.fired",
        "run.aborted",
        "run.verdict",
      ]);
      for (const n of notices)
        expect(n).toMatchObject({ runId: j.runId, experiment: { title: "notified run" } });
      expect(notices[1]).toMatchObject({ fault: { step: "freeze the sleeper", action: "process.suspend" } });
      expect(notices[2]).toMatchObject({ stopCondition: { name: "kill switch" } });
      expect(notices[4]).toMatchObject({ verdict: { status: "aborted", exitCode: 3 } });

      const slack = hook.got
        .filter((g) => g.path === SLACK_PATH)
        .map((g) => JSON.parse(g.body).text as string);
      expect(slack).toHaveLength(5);
      expect(slack[4]).toContain("*notified run*: *aborted*, exit 3");
      expect(slack[4]).toContain("Faults: ");
      expect(slack[4]).toContain(`Report: https://ci.example/chaos/${j.runId}/`);
      expect(slack[2]).toContain('stop condition "kill switch" fired');

      const written = `${await everythingWritten()}${r.stdout}${r.stderr}`;
      expect(written).not.toContain(SECRET);
      expect(written).not.toContain("slack-token-7d1e");
    } finally {
      await hook.close();
    }
  }, 60_000);

  it("changes nothing about the verdict, the revert, the exit code or the timing when endpoints hang or fail", async () => {
    const file = await write(`method:\n${freeze("300ms")}`);
    let started = Date.now();
    const base = await runCli(["run", file, ...args()], { env: env(), timeoutMs: 25_000 });
    const baselineMs = Date.now() - started;
    expect(base.code, base.stdout + base.stderr).toBe(0);
    const bf = readJournal().faults[0]!;
    const baseWindow = Date.parse(bf.revertedAt!) - Date.parse(bf.appliedAt);

    const hanging = await receiver("hanging");
    const failing = await receiver("failing");
    try {
      await settings(
        `notifications:\n  - { webhook: "${hanging.url}/h", secret: s3cr3t-value }\n  - { slack: "${failing.url}/f" }\n`,
      );
      started = Date.now();
      const r = await runCli(["run", file, ...args()], {
        env: env({ CHAOS_NOTIFY_TIMEOUT_MS: "1500" }),
        timeoutMs: 25_000,
      });
      const took = Date.now() - started;
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const j = readJournal();
      expect(j.status).toBe("completed");
      expect(j.rollbacks[0]).toMatchObject({ status: "succeeded" });
      const f = j.faults[0]!;
      expect(Date.parse(f.revertedAt!) - Date.parse(f.appliedAt)).toBeLessThan(baseWindow + 1_000);
      // The end waited at most the notification timeout for both endpoints together.
      expect(took).toBeLessThan(baselineMs + 1_500 + 3_000);
      const notes = j.notSent?.join("\n") ?? "";
      expect(notes).toMatch(
        /notifications: \d+ of \d+ to http:\/\/127\.0\.0\.1:\d+\/h not delivered: no answer/,
      );
      expect(notes).toMatch(
        /notifications: \d+ of \d+ to http:\/\/127\.0\.0\.1:\d+\/… not delivered: HTTP 500/,
      );
      // The failing endpoint was retried: more requests than events it was sent before the end.
      expect(failing.got.length).toBeGreaterThan(2);
      expect(hanging.got.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([hanging.close(), failing.close()]);
    }
  }, 60_000);
});

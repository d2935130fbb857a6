import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The target process: a small HTTP server on 127.0.0.1:0 that writes its pid to a pid file and counts the
 * SIGCONTs it receives, so a test can tell whether it was ever suspended.
 *   GET /health → 200 {"status":"ok"}     GET /stats → {"conts": n}     ?delay=ms answers that much later
 */
const TARGET_SCRIPT = `
const http = require("node:http");
const fs = require("node:fs");
let conts = 0;
process.on("SIGCONT", () => { conts++; });
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const body = url.pathname === "/stats" ? { conts } : { status: "ok" };
  setTimeout(() => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }, Math.min(Number(url.searchParams.get("delay")) || 0, 5000));
});
server.listen(0, "127.0.0.1", () => {
  fs.writeFileSync(process.argv[1], String(process.pid));
  process.stdout.write("listening " + server.address().port + "\\n");
});
`;

export interface Target {
  pid: number;
  port: number;
  url: string;
  pidFile: string;
  dir: string;
  /** The state letter of /proc/<pid>/stat: R, S, T (stopped), Z … or undefined once gone. */
  state(): string | undefined;
  /** Resolves once the state satisfies `ok`; rejects after `timeoutMs` (polls every 20 ms). */
  waitForState(ok: (state: string | undefined) => boolean, timeoutMs?: number): Promise<string | undefined>;
  /** GET a path; rejects on any failure, including no answer within `timeoutMs`. */
  get(path: string, timeoutMs?: number): Promise<{ status: number; body: string }>;
  /** How many SIGCONTs the process received (it must be running to answer). */
  conts(): Promise<number>;
  /** SIGCONT then SIGKILL, waits for the exit, removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** The process state letter from /proc/<pid>/stat (the field after the command name). */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** One GET on loopback with a deadline. @throws Error on connection failure or timeout. */
export function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { method: "GET", timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
      res.on("error", fail);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs}ms`)));
    req.on("error", fail);
    req.end();
  });
}

/**
 * Starts a target process and waits until it listens.
 * @throws Error when it does not listen within 10 s.
 */
export async function startTarget(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), "chaos-target-"));
  const pidFile = join(dir, "target.pid");
  const child: ChildProcess = spawn(process.execPath, ["-e", TARGET_SCRIPT, pidFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not spawn the target");
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error("the target did not listen within 10 s")), 10_000);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        done(Number(m[1]));
      }
    });
    child.once("exit", (code) => fail(new Error(`the target exited early (code ${code})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const target: Target = {
    pid,
    port,
    url,
    pidFile,
    dir,
    state: () => procState(pid),
    async waitForState(ok, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = procState(pid);
        if (ok(s)) return s;
        if (Date.now() > deadline) throw new Error(`pid ${pid} stayed in state ${s} for ${timeoutMs}ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    get: (path, timeoutMs) => httpGet(`${url}${path}`, timeoutMs),
    async conts() {
      return (JSON.parse((await httpGet(`${url}/stats`)).body) as { conts: number }).conts;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        process.kill(pid, "SIGCONT");
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
  return target;
}

/** A pid file naming a process that no longer exists. */
export async function deadPidFile(dir: string): Promise<string> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid;
  await new Promise((r) => child.once("exit", r));
  const file = join(dir, "dead.pid");
  await writeFile(file, String(pid));
  return file;
}

/** An HTTP endpoint in the test process whose status a test flips (a stop condition watches it). */
export interface Switch {
  url: string;
  set(status: number): void;
  close(): Promise<void>;
}

/** Starts a switch on 127.0.0.1:0 answering 200 until `set` says otherwise. */
export async function startSwitch(): Promise<Switch> {
  let status = 200;
  const server = createServer((_req, res) => {
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(String(status));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/switch`,
    set: (s) => {
      status = s;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

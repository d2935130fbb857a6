import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { describe } from "vitest";

/**
 * Network namespaces of a test's own (`ip netns add`), with real processes in them. Traffic stays inside
 * them: each has only its loopback, or a veth pair whose two addresses both live in namespaces the test made.
 * Without root, `ip`, `iptables` or `nsenter` a suite is skipped on a developer's machine, with a message,
 * but fails in CI (CI runs as root with them installed, so a green run never hides a skipped suite).
 */

const tool = (name: string) =>
  ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].some((d) => existsSync(`${d}/${name}`));
const missing = [
  ...(process.getuid?.() === 0 ? [] : ["root"]),
  ...["ip", "iptables", "iptables-save", "nsenter", "tc"].filter((t) => !tool(t)),
];
export const canUseNamespaces = process.platform === "linux" && missing.length === 0;

if (!canUseNamespaces && !process.env.CI) {
  console.warn(`network namespace suites skipped: missing ${missing.join(", ")}`);
}

/** `describe` when namespaces can be made or in CI (where their absence must fail), else `describe.skip`. */
export const describeWithNamespaces = canUseNamespaces || process.env.CI ? describe : describe.skip;

/** @throws Error naming what is missing (in CI this fails the suite on purpose). */
export function requireNamespaces(): void {
  if (!canUseNamespaces) {
    throw new Error(
      `network namespace tests need ${missing.join(", ")}: CI must run them as root with iproute2, iptables and util-linux`,
    );
  }
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { timeout: 10_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

/** A namespace of the test's own, with its loopback up. */
export class TestNamespace {
  readonly children = new Set<ChildProcess>();
  private constructor(readonly name: string) {}

  static async create(prefix = "ck"): Promise<TestNamespace> {
    const ns = new TestNamespace(`${prefix}-${randomBytes(4).toString("hex")}`);
    await run("ip", ["netns", "add", ns.name]);
    await run("ip", ["-n", ns.name, "link", "set", "lo", "up"]);
    return ns;
  }

  /** The namespace's inode, as /proc/PID/ns/net of a process inside names it. */
  get inode(): number {
    return statSync(`/run/netns/${this.name}`).ino;
  }

  /** Runs a command inside the namespace to its end. */
  exec(argv: string[]): Promise<string> {
    return run("ip", ["netns", "exec", this.name, ...argv]);
  }

  /** Starts a long-running process inside the namespace; it is killed by `destroy`. */
  spawn(argv: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn("ip", ["netns", "exec", this.name, ...argv], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  /** The iptables rules of the namespace (iptables-save), for assertions. */
  rules(): Promise<string> {
    return this.exec(["iptables-save"]);
  }

  /** Kills its processes and deletes it. Never throws. */
  async destroy(): Promise<void> {
    for (const child of this.children) child.kill("SIGKILL");
    await Promise.all(
      [...this.children].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))),
    );
    try {
      execFileSync("ip", ["netns", "delete", this.name], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
}

/**
 * A TCP server inside the namespace on 127.0.0.1 and a port the kernel chose: it answers every line it
 * receives with `<reply>:<line>`. Resolves with its pid and port once it listens.
 */
export function echoServer(
  ns: TestNamespace,
  reply = "echo",
  host = "127.0.0.1",
): Promise<{ pid: number; port: number; child: ChildProcess }> {
  const script = `
    const net = require("net");
    const s = net.createServer((c) => {
      let buf = "";
      c.on("data", (d) => { buf += d; let i; while ((i = buf.indexOf("\\n")) >= 0) { c.write(${JSON.stringify(reply)} + ":" + buf.slice(0, i) + "\\n"); buf = buf.slice(i + 1); } });
      c.on("error", () => {});
    });
    s.listen(0, ${JSON.stringify(host)}, () => console.log(s.address().port));`;
  const child = ns.spawn([process.execPath, "-e", script]);
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", (d) => resolve({ pid: child.pid!, port: Number(String(d).trim()), child }));
    child.once("exit", (code) => reject(new Error(`echo server exited (${code})`)));
  });
}

/**
 * Joins two test namespaces with a veth pair: `a` gets 10.213.N.1/30, `b` 10.213.N.2/30 (N random), so that
 * traffic between them never reaches the host. Returns the two addresses.
 */
export async function vethPair(a: TestNamespace, b: TestNamespace): Promise<{ a: string; b: string }> {
  const n = 1 + Math.floor(Math.random() * 250);
  const [ia, ib] = [`ck${randomBytes(3).toString("hex")}`, `ck${randomBytes(3).toString("hex")}`];
  await run("ip", ["link", "add", ia, "netns", a.name, "type", "veth", "peer", "name", ib, "netns", b.name]);
  await run("ip", ["-n", a.name, "addr", "add", `10.213.${n}.1/30`, "dev", ia]);
  await run("ip", ["-n", b.name, "addr", "add", `10.213.${n}.2/30`, "dev", ib]);
  await run("ip", ["-n", a.name, "link", "set", ia, "up"]);
  await run("ip", ["-n", b.name, "link", "set", ib, "up"]);
  return { a: `10.213.${n}.1`, b: `10.213.${n}.2` };
}

export interface RoundTrips {
  /** Milliseconds per line sent and answered, in order; empty when the connection failed. */
  ms: number[];
  /** The answers received. */
  replies: string[];
  /** The socket error's code (ECONNREFUSED, ECONNRESET, TIMEOUT) when the connection failed. */
  error?: string;
}

/**
 * Connects from inside `ns` to host:port (a process of the namespace, as the target itself would) and
 * sends `count` lines one after the other, timing each answer. Gives up after `timeoutMs`.
 */
export async function roundTrips(
  ns: Pick<TestNamespace, "exec">,
  host: string,
  port: number,
  count = 3,
  timeoutMs = 5_000,
): Promise<RoundTrips> {
  const script = `
    const net = require("net");
    const out = { ms: [], replies: [] };
    const done = () => { console.log(JSON.stringify(out)); process.exit(0); };
    setTimeout(() => { out.error = out.error || "TIMEOUT"; done(); }, ${timeoutMs});
    const c = net.connect(${port}, ${JSON.stringify(host)});
    let sent = 0, t = 0, buf = "";
    const next = () => { if (sent === ${count}) { c.end(); return done(); } t = performance.now(); c.write("m" + sent++ + "\\n"); };
    c.on("connect", next);
    c.on("data", (d) => { buf += d; let i; while ((i = buf.indexOf("\\n")) >= 0) { out.ms.push(performance.now() - t); out.replies.push(buf.slice(0, i)); buf = buf.slice(i + 1); next(); } });
    c.on("error", (e) => { out.error = e.code || e.message; done(); });
    c.on("close", () => { if (out.replies.length < ${count}) { out.error = out.error || "CLOSED"; done(); } });`;
  return JSON.parse(await ns.exec([process.execPath, "-e", script])) as RoundTrips;
}

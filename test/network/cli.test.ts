import { execFile } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { CLI, type CliProcess, ensureCliBuilt, runCli, startCli, stopCli } from "../support/cli.js";
import {
  describeWithNamespaces,
  echoServer,
  requireNamespaces,
  roundTrips,
  TestNamespace,
} from "../support/netns.js";

const exec = promisify(execFile);

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The helpers (`chaos intercept`) living in the namespace, by their command line. */
async function helpersIn(ns: TestNamespace): Promise<number[]> {
  const { stdout } = await exec("ip", ["netns", "pids", ns.name]);
  const helpers: number[] = [];
  for (const pid of stdout.split("\n").filter(Boolean).map(Number)) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmd.split("\0").includes("intercept")) helpers.push(pid);
  }
  return helpers;
}

describeWithNamespaces("chaos run with network faults, killed and rolled back", () => {
  let ns: TestNamespace;
  let server: { pid: number; port: number };
  let dir: string;
  let cli: CliProcess | undefined;

  beforeAll(async () => {
    requireNamespaces();
    await ensureCliBuilt();
    ns = await TestNamespace.create();
    server = await echoServer(ns, "db");
    dir = await mkdtemp(join(tmpdir(), "ck-net-cli-"));
  }, 240_000);
  afterEach(async () => {
    await stopCli(cli);
    for (const pid of await helpersIn(ns)) process.kill(pid, "SIGKILL");
    await ns.exec(["sh", "-c", "iptables -t nat -F OUTPUT; iptables -F OUTPUT; iptables -F INPUT"]);
  });
  afterAll(async () => {
    await ns?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function experiment(name: string, step: string): Promise<string> {
    const file = join(dir, `${name}.yaml`);
    await writeFile(
      file,
      `version: 1
title: ${name}
method:
${step}
`,
    );
    return file;
  }

  const latencyStep = (seconds: number) => `  - action: network.latency
    target: { process: { pid: ${server.pid} } }
    args: { to: ["127.0.0.1:${server.port}"], latency: 100ms }
    duration: ${seconds}s`;

  const hasRules = async () => (await ns.rules()).includes("chaos:");

  it("a run ending normally leaves no rule and no helper", async () => {
    const file = await experiment("ends", latencyStep(1));
    const ledger = join(dir, "ledger-ends");
    const result = await runCli(
      ["run", file, "--ledger", ledger, "--no-reports", "--out", join(dir, "out-ends")],
      {
        timeoutMs: 60_000,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(await hasRules()).toBe(false);
    expect(await helpersIn(ns)).toEqual([]);
    expect((await readdir(ledger).catch(() => [])).filter((f) => f.endsWith(".json"))).toEqual([]);
  });

  it("SIGKILL of the run: its helper removes its rules and exits; chaos rollback has nothing left to do but the entry", async () => {
    const file = await experiment("killed-run", latencyStep(60));
    const ledger = join(dir, "ledger-killed");
    cli = startCli(["run", file, "--ledger", ledger, "--no-reports", "--out", join(dir, "out-killed")], {
      timeoutMs: 90_000,
    });
    await until("the rules", hasRules);
    expect((await roundTrips(ns, "127.0.0.1", server.port, 2)).ms[1]).toBeGreaterThanOrEqual(98);
    const [helper] = await helpersIn(ns);
    expect(helper).toBeDefined();
    cli.child.kill("SIGKILL");
    await until("the rules to go", async () => !(await hasRules()), 15_000);
    await until("the helper to exit", async () => (await helpersIn(ns)).length === 0, 15_000);
    expect(median((await roundTrips(ns, "127.0.0.1", server.port, 3)).ms)).toBeLessThan(90);
    const rb = await runCli(["rollback", "--ledger", ledger], { timeoutMs: 60_000 });
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toContain("↺");
  });

  it("SIGKILL of the helper, then of the run: connections are refused until chaos rollback clears the rules", async () => {
    const file = await experiment("killed-helper", latencyStep(60));
    const ledger = join(dir, "ledger-helper");
    cli = startCli(["run", file, "--ledger", ledger, "--no-reports", "--out", join(dir, "out-helper")], {
      timeoutMs: 90_000,
    });
    await until("the rules", hasRules);
    for (const pid of await helpersIn(ns)) process.kill(pid, "SIGKILL");
    cli.child.kill("SIGKILL");
    await cli.result;
    await until("the helper's exit", async () => (await helpersIn(ns)).length === 0);
    expect((await roundTrips(ns, "127.0.0.1", server.port, 1)).error).toBe("ECONNREFUSED");
    expect(await hasRules()).toBe(true);
    const rb = await runCli(["rollback", "--ledger", ledger], { timeoutMs: 60_000 });
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(await hasRules()).toBe(false);
    expect((await roundTrips(ns, "127.0.0.1", server.port, 1)).replies).toEqual(["db:m0"]);
  });

  it("the same namespace faulted by a second run at once is refused, naming the holder, with nothing touched", async () => {
    const first = await experiment("holder", latencyStep(60));
    const second = await experiment(
      "second",
      `  - action: network.partition
    target: { process: { port: ${server.port} } }
    args: { from: [":${server.port}"], mode: reject }
    duration: 1s`,
    );
    const ledger = join(dir, "ledger-lease");
    cli = startCli(["run", first, "--ledger", ledger, "--no-reports", "--out", join(dir, "out-holder")], {
      timeoutMs: 90_000,
    });
    await until("the rules", hasRules);
    const ruleLines = async () => (await ns.rules()).split("\n").filter((l) => l.startsWith("-A"));
    const before = await ruleLines();
    const b = await runCli(
      ["run", second, "--ledger", ledger, "--no-reports", "--out", join(dir, "out-second")],
      {
        timeoutMs: 60_000,
      },
    );
    expect(b.code, b.stdout + b.stderr).toBe(4);
    expect(b.stdout).toMatch(/netns:[\w-]+:\d+ is locked by run/);
    expect(await ruleLines()).toEqual(before);
    // The holder ends as a person would end it: reverted and its leases released. Killed outright, its
    // ledger entry would keep the namespace locked, machine-wide, until chaos rollback.
    cli.child.kill("SIGTERM");
    await cli.result;
  });

  it("a helper ends its fault by itself past the step's duration when the run hangs", async () => {
    // Long enough to be seen and frozen before its end; the helper's deadline is 500 ms after it.
    const file = await experiment("hangs", latencyStep(4));
    const ledger = join(dir, "ledger-hangs");
    cli = startCli(["run", file, "--ledger", ledger, "--no-reports", "--out", join(dir, "out-hangs")], {
      timeoutMs: 90_000,
      env: { CHAOS_NETWORK_DEADLINE_MARGIN_MS: "500" },
    });
    await until("the rules", hasRules);
    // A frozen run can neither revert nor close its pipe: only the helper's deadline ends the fault.
    process.kill(cli.pid, "SIGSTOP");
    try {
      await until("the rules to go", async () => !(await hasRules()), 20_000);
      expect(await helpersIn(ns)).toEqual([]);
    } finally {
      process.kill(cli.pid, "SIGCONT");
    }
  }, 60_000);

  it("without root the preflight exits 4 naming what is missing, with nothing touched", async () => {
    const file = await experiment("no-root", latencyStep(5));
    await chmod(dir, 0o777);
    await chmod(file, 0o644);
    const ledger = join(dir, "ledger-noroot");
    // The same run as an unprivileged user (nobody), with a state folder it may write.
    const argv = ["run", file, "--ledger", ledger, "--no-reports", "--journal", join(dir, "noroot.json")];
    const result = await exec(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, ...argv],
      { cwd: dir, timeout: 60_000, env: { ...process.env, XDG_STATE_HOME: dir, NO_COLOR: "1" } },
    ).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({
        code: err.code ?? null,
        out: `${err.stdout ?? ""}${err.stderr ?? ""}`,
      }),
    );
    expect(result.code, result.out).toBe(4);
    expect(result.out).toContain("root privileges");
    expect(await hasRules()).toBe(false);
  });
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

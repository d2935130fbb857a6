import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseCgroups } from "../../src/agents/inside/identity.js";
import {
  findHelpers,
  HELPER_GID,
  identify,
  launchHelper,
  readInsideTarget,
  requireInsideTools,
  resolveInside,
  stillSame,
  stopHelpers,
} from "../../src/agents/inside/index.js";
import { readBootId } from "../../src/agents/process/proc.js";
import { testContext } from "../support/agent-context.js";
import { ensureCliBuilt, ROOT } from "../support/cli.js";
import { describeWithNamespaces, echoServer, requireNamespaces, TestNamespace } from "../support/netns.js";

const FIXTURE = join(ROOT, "test", "support", "inside-helper.mjs");
const RUN = join(ROOT, "test", "support", "inside-run.mjs");
const silent = pino({ enabled: false });

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

it("reads v1 and v2 cgroup paths from /proc/PID/cgroup", () => {
  const text = "9:name=systemd:/\n4:memory:/shop/payments\n2:cpu,cpuacct:/shop\n0::/shop.slice/payments\n";
  expect(parseCgroups(text)).toEqual({
    v1: { "name=systemd": "/", memory: "/shop/payments", "cpu,cpuacct": "/shop" },
    v2: "/shop.slice/payments",
  });
});

it("the preflight names every missing program and touches nothing", async () => {
  const err = await requireInsideTools("network.latency", ["nsenter", "no-such-tool-ck"]).catch((e) => e);
  expect(err.code).toBe("agent");
  expect(err.message).toContain("`no-such-tool-ck`");
  expect(err.message).not.toContain("`nsenter`");
});

describeWithNamespaces("targets inside network namespaces of their own", () => {
  let ns: TestNamespace;
  let server: { pid: number; port: number };
  let dir: string;

  beforeAll(async () => {
    requireNamespaces();
    await ensureCliBuilt();
    ns = await TestNamespace.create();
    server = await echoServer(ns);
    dir = await mkdtemp(join(tmpdir(), "ck-inside-"));
  }, 240_000);
  afterAll(async () => {
    await ns?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const launchFixture = async (name: string, tag: string, deadlineMs = 60_000) => {
    const marker = join(dir, name);
    const target = (await identify(server.pid))!;
    const helper = await launchHelper({
      target,
      entry: FIXTURE,
      args: [marker, "--tag", tag],
      deadline: Date.now() + deadlineMs,
      log: silent,
    });
    return { helper, marker };
  };

  it("a process found by port in another namespace resolves to its pid, start time, boot, namespace and cgroups", async () => {
    const ctx = testContext();
    const [t, ...more] = await resolveInside(readInsideTarget({ process: { port: server.port } }), ctx);
    expect(more).toEqual([]);
    expect(t!.identity.pid).toBe(server.pid);
    expect(t!.identity.netns).toBe(ns.inode);
    expect(t!.identity.bootId).toBe(await readBootId());
    expect(t!.identity.startTime).toBeGreaterThan(0);
    expect(Object.keys(t!.cgroups.v1).length).toBeGreaterThan(0);
    expect(t!.locks).toEqual([`netns:${t!.identity.bootId}:${ns.inode}`]);
  });

  it("by pid and by name it is the same process, and no longer the same once it is gone", async () => {
    const ctx = testContext();
    const byPid = await resolveInside(readInsideTarget({ process: { pid: server.pid } }), ctx);
    expect(byPid[0]!.identity.netns).toBe(ns.inode);
    const other = await TestNamespace.create();
    try {
      const marker = `ck-${randomBytes(4).toString("hex")}`;
      const child = other.spawn([process.execPath, "-e", "setInterval(() => {}, 1000)", marker]);
      await until("the process", () => child.pid !== undefined && alive(child.pid));
      await until("its namespace", async () => (await identify(child.pid!))?.netns === other.inode);
      const [byName] = await resolveInside(readInsideTarget({ process: { name: marker } }), ctx);
      expect(byName!.identity.pid).toBe(child.pid);
      expect(await stillSame(byName!.identity)).toBe(true);
      child.kill("SIGKILL");
      await until("its exit", () => !alive(child.pid!));
      expect(await stillSame(byName!.identity)).toBe(false);
    } finally {
      await other.destroy();
    }
  });

  it("a helper runs in the target's namespace as the helper group and undoes its work when the run stops it", async () => {
    const { helper, marker } = await launchFixture("stop", "t-stop");
    expect(helper.ready).toEqual({ netns: `net:[${ns.inode}]`, gid: HELPER_GID });
    expect(await stop(helper)).toEqual({ how: "stopped", code: 0 });
    expect(readFileSync(marker, "utf8")).toBe("the run closed its pipe\n");
  });

  it("a helper whose run is SIGKILLed undoes its work and exits", async () => {
    const marker = join(dir, "dead-run");
    const run = spawn(process.execPath, [RUN, String(server.pid), FIXTURE, marker, "t-dead"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const helperPid = await new Promise<number>((resolve, reject) => {
      run.stdout!.once("data", (d) => resolve(Number(String(d).trim())));
      run.once("exit", (code) => reject(new Error(`the run exited (${code})`)));
    });
    expect(alive(helperPid)).toBe(true);
    run.kill("SIGKILL");
    await until("the helper's exit", () => !alive(helperPid));
    expect(readFileSync(marker, "utf8")).toBe("the run closed its pipe\n");
  });

  it("a helper undoes its work and exits at its deadline, though its run lives on", async () => {
    const { helper, marker } = await launchFixture("deadline", "t-deadline", 400);
    expect(await helper.exited).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("deadline\n");
  });

  it("a helper is found by its tag alone, and SIGTERM makes it undo its work", async () => {
    const tag = `t-${randomBytes(4).toString("hex")}`;
    const { helper, marker } = await launchFixture("rollback", tag);
    const found = await findHelpers(tag);
    expect(found).toEqual([{ pid: helper.pid, startTime: helper.startTime, netns: ns.inode }]);
    expect(await stopHelpers(found)).toEqual([]);
    expect(await helper.exited).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("SIGTERM\n");
    expect(await findHelpers(tag)).toEqual([]);
  });

  it("a helper entering a namespace that is not the recorded one is stopped and refused", async () => {
    const target = { ...(await identify(server.pid))!, netns: 1 };
    const marker = join(dir, "wrong");
    const err = await launchHelper({
      target,
      entry: FIXTURE,
      args: [marker, "--tag", "t-wrong"],
      deadline: Date.now() + 60_000,
      log: silent,
    }).catch((e) => e);
    expect(err.code).toBe("agent");
    expect(err.message).toContain("not in the recorded network namespace");
    expect(existsSync(marker) && readFileSync(marker, "utf8")).toBe("the run closed its pipe\n");
  });
});

function stop(helper: { stop(ms?: number): Promise<{ how: string; code: number | null }> }) {
  return helper.stop(5_000);
}

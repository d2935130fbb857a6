import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  cpuLimitCores,
  cpuSeconds,
  joinDirs,
  locate,
  memoryOf,
  parseMountinfo,
  parseProcCgroup,
} from "./cgroup.js";

const HYBRID = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate`;

describe("cgroup paths", () => {
  it("maps /proc/<pid>/cgroup onto co-mounted v1 hierarchies and the v2 one", () => {
    const mounts = parseMountinfo(HYBRID);
    const paths = parseProcCgroup(
      "12:memory:/docker/ab\n4:cpu,cpuacct:/docker/ab\n1:name=systemd:/x\n0::/docker/ab\n",
    );
    const set = locate(paths, mounts);
    expect(set.v1).toEqual({
      cpu: "/sys/fs/cgroup/cpu,cpuacct/docker/ab",
      cpuacct: "/sys/fs/cgroup/cpu,cpuacct/docker/ab",
      memory: "/sys/fs/cgroup/memory/docker/ab",
      "name=systemd": "/sys/fs/cgroup/systemd/x",
    });
    expect(set.v2).toBe("/sys/fs/cgroup/unified/docker/ab");
    expect(joinDirs(set)).toHaveLength(4);
  });

  it("strips the mount's own root (a container sees its cgroup mounted at /)", () => {
    const mounts = parseMountinfo("40 30 0:37 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw");
    expect(locate({ v1: {}, v2: "/kubepods/pod1/c1" }, mounts).v2).toBe("/sys/fs/cgroup/c1");
  });
});

describe("cgroup v2 counters", () => {
  let root: string;
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("reads CPU time, quota, memory, limit and OOM kills from v2 files", async () => {
    root = await mkdtemp(join(tmpdir(), "chaoskit-v2-"));
    const dir = join(root, "app");
    await mkdir(dir);
    await writeFile(join(dir, "cpu.stat"), "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
    await writeFile(join(dir, "cpu.max"), "50000 100000\n");
    await writeFile(join(dir, "memory.current"), "104857600\n");
    await writeFile(join(dir, "memory.max"), "268435456\n");
    await writeFile(join(dir, "memory.stat"), "anon 90000000\ninactive_file 4857600\n");
    await writeFile(join(dir, "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    const set = { v1: {}, v1Paths: {}, v2: dir, v2Path: "/app" };
    expect(await cpuSeconds(set)).toBe(2.5);
    expect(await cpuLimitCores(set)).toBe(0.5);
    expect(await memoryOf(set)).toEqual({
      usage: 104857600,
      workingSet: 100000000,
      limit: 268435456,
      oomKills: 1,
    });
    await writeFile(join(dir, "cpu.max"), "max 100000\n");
    await writeFile(join(dir, "memory.max"), "max\n");
    expect(await cpuLimitCores(set)).toBeUndefined();
    expect((await memoryOf(set))?.limit).toBeUndefined();
  });
});

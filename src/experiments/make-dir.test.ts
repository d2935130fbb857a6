import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureCliBuilt, ROOT } from "../../test/support/cli.js";
import { makeDir, makeDirSync } from "./make-dir.js";

let dir: string;
beforeAll(ensureCliBuilt, 180_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-make-dir-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const codeOf = async (p: Promise<unknown>) => (await p.then(() => "ok").catch((e) => e.code)) as string;

describe("makeDir", () => {
  it("creates a folder and its missing parents, and accepts one that exists", async () => {
    await makeDir(join(dir, "a", "b", "c"));
    await makeDir(join(dir, "a", "b", "c"));
    makeDirSync(join(dir, "a", "d", "e"));
    expect(statSync(join(dir, "a", "b", "c")).isDirectory()).toBe(true);
    expect(statSync(join(dir, "a", "d", "e")).isDirectory()).toBe(true);
  });

  it("gives up with ENOENT under a folder that refuses children, where Node's mkdir -p spins forever", async () => {
    expect(await codeOf(makeDir("/proc/self/x/journal"))).toBe("ENOENT");
    expect(() => makeDirSync("/proc/self/x/journal")).toThrow(/ENOENT/);
  });

  it("gives up with ENOTDIR when a file sits where a folder must be", async () => {
    await writeFile(join(dir, "file"), "");
    expect(await codeOf(makeDir(join(dir, "file", "sub")))).toBe("ENOTDIR");
    expect(await codeOf(makeDir(join(dir, "file")))).toBe("ENOTDIR");
  });

  it("gives up with ENOENT on a relative path once the working directory was removed", async () => {
    const module = join(ROOT, "dist", "src", "experiments", "make-dir.js");
    const script = `
      const { makeDir } = await import(${JSON.stringify(module)});
      const fs = await import("node:fs");
      process.chdir(${JSON.stringify(dir)});
      fs.rmSync(${JSON.stringify(dir)}, { recursive: true });
      await makeDir(".chaos/runs/x").then(() => console.log("created"), (e) => console.log(e.code));
    `;
    const out = await new Promise<string>((done, fail) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 10_000 }, (err, stdout) =>
        err ? fail(err) : done(stdout.trim()),
      ),
    );
    expect(out).toBe("ENOENT");
    expect(existsSync(dir)).toBe(false);
  });
});

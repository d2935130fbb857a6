import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureCliBuilt, runCli } from "../support/cli.js";

let dir: string;
beforeAll(ensureCliBuilt, 180_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-var-order-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("chaos run --var", () => {
  it("takes the file after --var name=value as the experiment, in the natural order", async () => {
    const file = join(dir, "exp.yaml");
    await writeFile(
      file,
      "version: 1\ntitle: t\nconfiguration:\n  pause: 10ms\nmethod:\n  - pause: ${configuration.pause}\n",
    );
    const ok = await runCli(["run", "--var", "pause=20ms", file, "--dry-run"], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("20ms");
  });
});

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/cli.js";

const run = promisify(execFile);

describe("the Kubernetes client", () => {
  it("loads under the Node that runs the tests, which the engines range admits", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const min = /^>=(\d+)\.(\d+)/.exec(pkg.engines.node)!;
    const [major, minor] = process.versions.node.split(".").map(Number);
    expect(major! > Number(min[1]) || (major === Number(min[1]) && minor! >= Number(min[2]))).toBe(true);
    // A fresh process, so nothing already loaded by the test runner can hide an import-time failure.
    const script = `const k = await import("@kubernetes/client-node"); console.log(typeof k.KubeConfig, typeof k.CoreV1Api);`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT });
    expect(stdout.trim()).toBe("function function");
  });

  it("is the one the agent's module loads on first use", async () => {
    const { loadClient } = await import("../../src/agents/kubernetes/client.js");
    const lib = await loadClient();
    expect(typeof lib.KubeConfig).toBe("function");
  });
});

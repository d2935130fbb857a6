import { spawn } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureCliBuilt, ROOT } from "../../test/support/cli.js";

beforeAll(ensureCliBuilt, 180_000);

/**
 * A process whose run never ends — its controller ignores the abort, as a revert stuck on a dead mount or a
 * hung API would — with the real safety nets installed; `finished` says whether its verdict is already in.
 */
function stuckRun(finished?: number) {
  const nets = join(ROOT, "dist", "src", "cli", "safety-nets.js");
  const script = `
    const { installSafetyNets } = await import(${JSON.stringify(nets)});
    const nets = installSafetyNets({ rollbackMs: 1500, outputMs: 1000 });
    nets.attach({ abort() {} }, async () => {});
    ${finished === undefined ? "" : `nets.finished(${finished});`}
    setInterval(() => {}, 1000);
    process.stdout.write("ready\\n");
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c) => {
    out += c;
  });
  const ready = new Promise<void>((done) => {
    const poll = setInterval(() => {
      if (out.includes("ready")) {
        clearInterval(poll);
        done();
      }
    }, 20);
  });
  const exited = new Promise<{ code: number | null; ms: number; out: string }>((done) => {
    let signalled = 0;
    ready.then(() => {
      signalled = Date.now();
      child.kill("SIGTERM");
    });
    child.on("close", (code) => done({ code, ms: Date.now() - signalled, out }));
  });
  // Never let a broken build leave the process behind.
  setTimeout(() => child.kill("SIGKILL"), 20_000).unref();
  return exited;
}

describe("the safety nets of chaos run", () => {
  it("end a run stuck rolling back within the grace after one signal, exit 3, and say why", async () => {
    const r = await stuckRun();
    expect(r.code).toBe(3);
    expect(r.ms).toBeGreaterThanOrEqual(1400);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.out).toContain("still rolling back 1.5s after SIGTERM");
  });

  it("end a run stuck writing its journal after the verdict with the verdict's exit code", async () => {
    const r = await stuckRun(1);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.out).toContain("the journal and reports were not written within 1s of SIGTERM");
  });
});

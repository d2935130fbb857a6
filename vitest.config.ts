import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Leases on shared targets are machine-wide; each run of the suite gets a folder of its own, so that two
// runs side by side never meet on a test's made-up lease keys.
const leases = process.env.CHAOS_LEASES_DIR || mkdtempSync(join(tmpdir(), "chaos-test-leases-"));

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    env: { CHAOS_LEASES_DIR: leases },
    reporters: process.env.CI ? ["default", ["json", { outputFile: "test-results.json" }]] : ["default"],
  },
});

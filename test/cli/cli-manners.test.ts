import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expandFiles } from "../../src/cli/run-many.js";
import { ensureCliBuilt, ROOT, runCli } from "../support/cli.js";

beforeAll(ensureCliBuilt, 180_000);

const COMMANDS = ["run", "validate", "plan", "rollback", "agents", "report", "proxy"];

describe("the CLI's own manners", () => {
  it("chaos --help shows examples whose files exist", async () => {
    const r = await runCli(["--help"]);
    const files = [...r.stdout.matchAll(/experiments\/[\w*.-]+\.yaml/g)].map((m) => m[0]);
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) {
      if (f.includes("*")) expect((await expandFiles([join(ROOT, f)])).length, f).toBeGreaterThan(0);
      else expect(existsSync(join(ROOT, f)), f).toBe(true);
    }
  });

  it.each(COMMANDS)("every option of chaos %s has a description", async (command) => {
    const r = await runCli([command, "--help"]);
    expect(r.code).toBe(0);
    // yargs prints the type right after the name when an option has no description
    const undescribed = r.stdout
      .split("\n")
      .filter((l) => /^ {2,4}(--[\w-]+|\w+)\s{2,}\[(string|boolean|number|array)/.test(l));
    expect(undescribed).toEqual([]);
  });

  it("chaos agents AGENT shows that agent only, its probes under their keys, every form named", async () => {
    const r = await runCli(["agents", "process"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^process — /);
    expect(r.stdout).not.toMatch(/^(http|toxiproxy|prometheus) — /m);
    expect(r.stdout).toContain("probe process.running (also: process)");
    const http = await runCli(["agents", "http"]);
    expect(http.stdout).toMatch(/^ {2}probe http \(also: http\.request\) — /m);
    expect(http.stdout).toMatch(/body\?: string\|object\|array/);
    for (const out of [r.stdout, http.stdout]) {
      expect(out).not.toContain("one of several forms");
      expect(out).not.toMatch(/^\s+:/m); // no empty key
    }
    const unknown = await runCli(["agents", "proces"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean "process"?');
  });

  it("chaos plan shows the estimated run time, arguments as YAML and each stop condition's name once", async () => {
    const r = await runCli(["plan", "experiments/payments-gateway-down.yaml"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/estimated run time: about \d+(\.\d+)?s, up to \d+(\.\d+)?s/);
    expect(r.stdout).not.toMatch(/[{,]"[\w-]+":/); // no JSON
    for (const line of r.stdout.split("\n").filter((l) => l.includes("stop when "))) {
      const name = /stop when ([^:]+):/.exec(line)?.[1];
      expect(line.split(name!).length - 1, line).toBe(1);
    }
  });

  it("chaos completion prints a shell completion script", async () => {
    const r = await runCli(["completion"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("complete");
    expect(r.stdout).toContain("chaos");
  });
});

import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, type CliResult, ensureCliBuilt, ROOT, runCli } from "../support/cli.js";

let dir: string;

beforeAll(async () => {
  await ensureCliBuilt();
  dir = await mkdtemp(join(tmpdir(), "chaos-hostile-"));
}, 180_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The CLI with `input` on its standard input. */
function withStdin(args: string[], input: string | Buffer, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
    child.once("error", fail);
    child.once("close", (code, signal) => done({ code, signal, stdout, stderr, timedOut: false }));
  });
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const valid = "version: 1\ntitle: a pause\nmethod:\n  - pause: 10ms\n";
const noStack = (r: CliResult) => expect(r.stderr).not.toMatch(/\n\s+at |node:internal/);

describe("chaos on hostile inputs", () => {
  it("validates standard input with -, and says what is wrong with it", async () => {
    const good = await withStdin(["validate", "-"], valid);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain("✓ <stdin>");
    const bad = await withStdin(["validate", "-"], "version: 1\ntitle: t\nmethod:\n  - pause: 10\n");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "<stdin>:4:12: method[0].pause: 10 has no unit (a duration needs a unit: write 10s or 10ms)",
    );
  });

  it("refuses devices, FIFOs and folders without reading them", async () => {
    const fifo = join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    const folder = join(dir, "folder.yaml");
    await mkdir(folder);
    const results = await Promise.all(
      ["/dev/zero", "/dev/urandom", fifo, folder].map((f) => runCli(["validate", f], { timeoutMs: 10_000 })),
    );
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(results.map((r) => r.timedOut)).toEqual([false, false, false, false]);
    expect(results[0]!.stderr).toContain("/dev/zero: it is a device");
    expect(results[2]!.stderr).toContain("fifo.yaml: it is a FIFO");
    expect(results[3]!.stderr).toContain("folder.yaml: it is a folder");
    for (const r of results) noStack(r);
  });

  it("caps the input size for files and standard input, configurable by flag and environment", async () => {
    const big = await file("big.yaml", `${valid}description: "${"x".repeat(2 * 1024 * 1024)}"\n`);
    const [dflt, flag, env, stdin, raised] = await Promise.all([
      runCli(["validate", big]),
      runCli(["validate", "--max-input-bytes", "20", await file("small.yaml", valid)]),
      runCli(["validate", big], { env: { CHAOS_MAX_INPUT_BYTES: "4096" } }),
      withStdin(["validate", "-"], Buffer.alloc(2 * 1024 * 1024, 0x61)),
      runCli(["validate", big, "--max-input-bytes", String(4 * 1024 * 1024)]),
    ]);
    expect(dflt.code).toBe(2);
    expect(dflt.stderr).toContain("big.yaml is larger than 1048576 bytes");
    expect(flag.stderr).toContain("small.yaml is larger than 20 bytes");
    expect(env.stderr).toContain("is larger than 4096 bytes");
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toContain("standard input is larger than 1048576 bytes");
    expect(raised.code, raised.stderr).toBe(0);
  });

  it("lists the first 100 problems and counts the rest", async () => {
    const steps = Array.from({ length: 250 }, (_, i) => `  - pause: 1s\n    extra${i}: 1\n`).join("");
    const r = await runCli(["validate", await file("many.yaml", `version: 1\ntitle: t\nmethod:\n${steps}`)]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n").filter((l) => l.includes("many.yaml:"))).toHaveLength(100);
    expect(r.stderr).toContain("and 150 more");
    expect(r.stderr).toContain("250 problems found (the first 100 shown, and 150 more)");
  });

  it("refuses YAML aliases that expand beyond the bound, or point nowhere or at themselves, in validate, plan and run", async () => {
    const list = `[${Array.from({ length: 20_000 }, () => "1").join(",")}]`;
    const bomb = await file(
      "bomb.yaml",
      `${valid}tags: &a ${list}\n${Array.from({ length: 60 }, (_, i) => `x${i}: *a`).join("\n")}\n`,
    );
    const missing = await file("missing.yaml", `${valid}tags: *nowhere\n`);
    const itself = await file("itself.yaml", `${valid}tags: &me [*me]\n`);
    const ledger = join(dir, "ledger");
    const runs = await Promise.all([
      ...["validate", "plan"].map((c) => runCli([c, bomb])),
      runCli(["run", bomb, "--ledger", ledger]),
      runCli(["plan", missing]),
      runCli(["run", itself, "--ledger", ledger]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
    for (const r of runs.slice(0, 3))
      expect(r.stderr).toMatch(/bomb\.yaml:\d+:\d+: YAML aliases expand this document beyond/);
    expect(runs[3]!.stderr).toContain("missing.yaml:5:7: YAML alias *nowhere has no anchor");
    expect(runs[4]!.stderr).toContain("itself.yaml:5:12: YAML alias *me is inside the node it refers to");
    for (const r of runs) noStack(r);
  });

  it("escapes control characters from titles, keys and file names before they reach the terminal", async () => {
    const evil = await file(
      "evil\u001b[2J.yaml",
      'version: 1\ntitle: "clear\\e[2J\\0me"\nmethod:\n  - pause: 10ms\n"k\\e]0;x\\a": 1\n',
    );
    const r = await runCli(["validate", evil]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(r.stderr).toContain("evil\\u001b[2J.yaml");
    expect(r.stderr).toContain('unknown key "k\\u001b]0;x\\u0007"');
    const plan = await runCli([
      "plan",
      await file("title.yaml", 'version: 1\ntitle: "clear\\e[2J\\0me"\nmethod:\n  - pause: 10ms\n'),
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("plan: clear\\u001b[2J\\u0000me");
    expect(plan.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });

  it("escapes bidirectional overrides and zero-width characters in titles and probe names", async () => {
    const plan = await runCli([
      "plan",
      await file(
        "bidi.yaml",
        'version: 1\ntitle: "pay\u202Egnp.exe\u200Bx"\nsteady-state:\n  probes:\n    - name: "ok\u2066?"\n      http: { url: "http://127.0.0.1:9/" }\n      tolerance: { status: 200 }\nmethod:\n  - pause: 10ms\n',
      ),
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("pay\\u202egnp.exe\\u200bx");
    expect(plan.stdout).toContain("ok\\u2066?");
    expect(plan.stdout).not.toMatch(/[\u200b\u202a-\u202e\u2066-\u2069]/);
  });

  it("refuses what no process, selection or PromQL probe could mean, at the line that says it", async () => {
    const r = await runCli([
      "validate",
      await file(
        "targets.yaml",
        [
          "version: 1",
          "title: t",
          "configuration: { prometheus: { url: http://127.0.0.1:9090 } }",
          "steady-state:",
          "  probes:",
          "    - prometheus: { query: '{}' }",
          "      tolerance: { status: 200 }",
          "    - prometheus: { query: 'up{job=~\"(\"}' }",
          '      tolerance: "< 1"',
          "method:",
          "  - action: process.suspend",
          "    target: { pid: 99999999999 }",
          "    duration: 1s",
          "  - action: process.suspend",
          "    target: { name: sleeper, all: true, select: { mode: one } }",
          "    duration: 1s",
          "",
        ].join("\n"),
      ),
    ]);
    expect(r.code, r.stderr).toBe(2);
    for (const text of [
      "targets.yaml:6:",
      "matches every series",
      "targets.yaml:7:",
      "steady-state.probes[0].tolerance.status: a PromQL probe has no HTTP status to judge",
      'regex "(" does not compile',
      "targets.yaml:12:20: method[0].target.pid: 99999999999 must be <= 4194304",
      "targets.yaml:15:",
      "all: true and select cannot be used together",
    ])
      expect(r.stderr).toContain(text);
    noStack(r);
  });

  it("refuses __proto__ keys and raw control characters where they are written", async () => {
    const [proto, nested, nul] = await Promise.all([
      runCli([
        "validate",
        await file(
          "proto.yaml",
          "version: 1\ntitle: t\n__proto__: { polluted: 1 }\nmethod:\n  - pause: 10ms\n",
        ),
      ]),
      runCli([
        "validate",
        await file(
          "nested.yaml",
          "version: 1\ntitle: t\nconfiguration:\n  __proto__: { x: 1 }\nmethod:\n  - pause: 10ms\n",
        ),
      ]),
      runCli([
        "validate",
        await file("nul.yaml", 'version: 1\ntitle: "a\u0000b"\nmethod:\n  - pause: 10ms\n'),
      ]),
    ]);
    expect([proto.code, nested.code, nul.code]).toEqual([2, 2, 2]);
    expect(proto.stderr).toContain('proto.yaml:3:1: the key "__proto__" is not allowed');
    expect(nested.stderr).toContain('nested.yaml:4:3: the key "__proto__" is not allowed');
    expect(nul.stderr).toContain("nul.yaml:2:10: the file holds the control character U+0000");
    for (const r of [proto, nested, nul]) noStack(r);
  });

  it("reads a file with carriage returns alone as lines, and points at the right one", async () => {
    const r = await runCli([
      "validate",
      await file("mac.yaml", "version: 1\rtitle: t\rmethod:\r  - pause: 10\r"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("mac.yaml:4:12: method[0].pause: 10 has no unit");
  });

  it("refuses agent arguments that would only fail once a fault is live", async () => {
    const r = await runCli([
      "validate",
      join(ROOT, "test", "fixtures", "malformed", "agent-args-strict.yaml"),
    ]);
    expect(r.code).toBe(2);
    for (const text of [
      "Infinity has no unit",
      "99999999999h is longer than the longest duration, 24h",
      "a timeout must be at least 1ms",
      '"(" is not a valid regular expression',
      'missing required key "count"',
      "configuration.prometheus.url",
      "an interval must be at least 1ms",
    ])
      expect(r.stderr).toContain(text);
  });

  it("applies one rule to configuration values that refer to configuration, in validate, plan and run", async () => {
    const f = await file(
      "config-ref.yaml",
      'version: 1\ntitle: t\nconfiguration:\n  base: "http://127.0.0.1:9"\n  health: "${configuration.base}/h"\nmethod:\n  - pause: 10ms\n',
    );
    const runs = await Promise.all([
      runCli(["validate", f]),
      runCli(["plan", f]),
      runCli(["run", f, "--ledger", join(dir, "ledger")]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2]);
    for (const r of runs)
      expect(r.stderr).toContain(
        "config-ref.yaml:5:11: configuration.health: a configuration value cannot refer to another configuration value",
      );
  });

  it("refuses an empty proxy host, and warns before listening anywhere but loopback", async () => {
    const empty = await runCli(["proxy", "--host", "", "--port", "0"]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("--host must not be empty");
    // 192.0.2.1 is reserved for documentation: nothing can listen there, so nothing is exposed.
    const other = await runCli(["proxy", "--host", "192.0.2.1", "--port", "0"], { timeoutMs: 10_000 });
    expect(other.stderr).toContain("warning: the proxy API on 192.0.2.1 has no authentication");
    expect(other.code).toBe(4);
  });
});

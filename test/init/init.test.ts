import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEMPLATES } from "../../src/init/templates/index.js";
import { ensureCliBuilt, ROOT, runCli } from "../support/cli.js";
import { describeWithTerminal, startInTerminal } from "../support/terminal.js";

let work: string;
beforeAll(async () => {
  await ensureCliBuilt();
  work = await mkdtemp(join(tmpdir(), "chaos-init-"));
}, 180_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The schema a modeline points at, resolved from the file that carries it. */
function modelineSchema(file: string): string {
  const first = readFileSync(file, "utf8").split("\n")[0]!;
  const m = /^# yaml-language-server: \$schema=(.+)$/.exec(first);
  if (!m) throw new Error(`no modeline in ${file}: ${first}`);
  return resolve(dirname(file), m[1]!);
}

const SCHEMA = join(ROOT, "src", "experiments", "schema", "experiment.schema.json");

describe("chaos init", () => {
  it("lists every template with what it checks", async () => {
    const r = await runCli(["init", "--list"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    for (const t of TEMPLATES)
      expect(lines.some((l) => l.startsWith(t.name) && l.endsWith(t.description))).toBe(true);
  });

  /** Each template's flags, and what the file must then say. */
  const flags: Record<string, { args: string[]; says: string[] }> = {
    "http-availability": {
      args: ["--url", "http://127.0.0.1:8080/healthz", "--target", "/run/orders.pid"],
      says: ['url: "http://127.0.0.1:8080/healthz"', 'target: { pid-file: "/run/orders.pid" }'],
    },
    "prometheus-slo": {
      args: ["--query", 'sum(rate(errors_total{job="orders"}[5m]))', "--target", ":8080"],
      says: [
        `query: ${JSON.stringify('sum(rate(errors_total{job="orders"}[5m]))')}`,
        "target: { port: 8080 }",
      ],
    },
    "toxiproxy-latency": {
      args: ["--url", "http://127.0.0.1:8080/healthz", "--target", "orders-db"],
      says: ['url: "http://127.0.0.1:8080/healthz"', 'target: { proxy: "orders-db" }'],
    },
    "process-kill": {
      args: ["--url", "http://127.0.0.1:8080/healthz", "--target", "node .*orders"],
      says: ['target: { name: "node .*orders", select: { mode: one, max: 1 } }'],
    },
    "docker-pause": {
      args: ["--url", "http://127.0.0.1:8080/healthz", "--target", "payments"],
      says: ["action: docker.pause", 'target: { name: "payments" }'],
    },
    "kubernetes-pod-kill": {
      args: ["--url", "http://127.0.0.1:8080/healthz", "--target", "shop/app=payments"],
      says: [
        "action: kubernetes.pod-kill",
        'target: { namespace: "shop", labels: { "app": "payments" }, select: { mode: one, max: 1 } }',
      ],
    },
  };

  it.concurrent.each(TEMPLATES.map((t) => t.name))(
    "writes %s from flags with a schema modeline, and it passes chaos validate",
    async (name) => {
      const out = join(work, "flags", `${name}.yaml`);
      const r = await runCli(["init", "--template", name, "--out", out, ...flags[name]!.args]);
      expect(r.code, r.stderr).toBe(0);
      expect(modelineSchema(out)).toBe(SCHEMA);
      const v = await runCli(["validate", out]);
      expect(v.code, v.stderr).toBe(0);
      for (const line of flags[name]!.says) expect(readFileSync(out, "utf8")).toContain(line);
    },
  );

  it("writes every template with its defaults when nobody is asked", async () => {
    for (const t of TEMPLATES)
      expect((await runCli(["init", "--template", t.name], { cwd: work })).code).toBe(0);
    const v = await runCli(["validate", ...TEMPLATES.map((t) => `${t.name}.yaml`)], { cwd: work });
    expect(v.code, v.stderr).toBe(0);
    // and none has a fault that no check could see
    expect(v.stdout).not.toContain("warning");
  }, 60_000);

  it("never overwrites a file unless given --force", async () => {
    const out = join(work, "mine.yaml");
    await writeFile(out, "my own experiment\n");
    const r = await runCli(["init", "--template", "process-kill", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${out} already exists (pass --force to overwrite it, or --out another file)`);
    expect(readFileSync(out, "utf8")).toBe("my own experiment\n");
    const forced = await runCli(["init", "--template", "process-kill", "--out", out, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("action: process.kill");
  });

  it("names the template a typo was meant to be", async () => {
    const r = await runCli(["init", "--template", "proces-kill", "--out", join(work, "typo.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no template "proces-kill" (did you mean "process-kill"?)');
    expect(existsSync(join(work, "typo.yaml"))).toBe(false);
  });

  it("writes nothing when a value makes an invalid experiment, and says where", async () => {
    const out = join(work, "bad-query.yaml");
    const r = await runCli([
      "init",
      "--template",
      "prometheus-slo",
      "--query",
      "sum(rate(x[1m])",
      "--out",
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /bad-query\.yaml:\d+:\d+: steady-state\.probes\[0\]\.prometheus\.query: PromQL syntax error/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describeWithTerminal("chaos init in a terminal", () => {
  it("asks for the values no flag gave, with defaults, and writes what was typed", async () => {
    const out = join(work, "asked.yaml");
    const t = await startInTerminal(["init", "--template", "process-kill", "--out", out], {
      cwd: work,
      dir: work,
    });
    try {
      await t.waitFor(/URL of the service's health endpoint \[http:\/\/127\.0\.0\.1:8080\/healthz\]: $/m);
      await t.type("http://127.0.0.1:9999/ready");
      await t.waitFor(/process to act on .*\[my-service\]: $/m);
      await t.type("");
      expect(await t.exitCode()).toBe(0);
    } finally {
      await t.close();
    }
    const text = readFileSync(out, "utf8");
    expect(text).toContain('url: "http://127.0.0.1:9999/ready"');
    expect(text).toContain('target: { name: "my-service", select: { mode: one, max: 1 } }');
    expect((await runCli(["validate", out])).code).toBe(0);
  }, 30_000);

  it.each([150, 80])(
    "at %i columns, plain chaos init lets you pick a template, and answers echo without a stray \\r",
    async (columns) => {
      const out = join(work, `picked-${columns}.yaml`);
      const t = await startInTerminal(["init", "--out", out], { cwd: work, dir: work, columns });
      try {
        await t.waitFor(/template \[1-\d, default 1\]: $/m);
        const screen = await t.screen();
        for (const [i, tpl] of TEMPLATES.entries()) expect(screen).toContain(`${i + 1}. ${tpl.name}`);
        await t.type(String(TEMPLATES.findIndex((x) => x.name === "process-kill") + 1));
        await t.waitFor(/URL of the service's health endpoint .*: $/m);
        await t.type("http://127.0.0.1:9999/ready");
        await t.waitFor(/process to act on .*: $/m);
        await t.type("orders");
        expect(await t.exitCode()).toBe(0);
        const rows = await t.rows();
        expect(rows.join("\n")).not.toContain("\\r");
        // each answer follows its own prompt, as typed (a long one wraps as typed input does)
        const screen2 = await t.screen();
        expect(screen2).toMatch(/health endpoint .*: http:\/\/127\.0\.0\.1:9999\/ready$/m);
        expect(screen2).toMatch(/process to act on .*: orders$/m);
        expect(screen2).toMatch(/^✓ wrote .*picked-\d+\.yaml \(process-kill\)$/m);
      } finally {
        await t.close();
      }
      const text = readFileSync(out, "utf8");
      expect(text).toContain("action: process.kill");
      expect(text).toContain('target: { name: "orders", select: { mode: one, max: 1 } }');
    },
    30_000,
  );
});

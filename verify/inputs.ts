import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultRegistry } from "../src/agents/index.js";
import { ChaosError } from "../src/experiments/errors.js";
import { parseExperiment } from "../src/experiments/load.js";
import { encodings, Redactor } from "../src/experiments/redact.js";

/** The repository root: the nearest folder above this file holding the test fixtures (from source or dist). */
function root(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "test", "fixtures"))) dir = dirname(dir);
  return dir;
}

/** Files that grow: many problems, many keys, aliases, nesting, a file at the size cap. */
function scalingInputs(): [string, string][] {
  const steps = (n: number) =>
    Array.from({ length: n }, (_, i) => `  - pause: 1s\n    extra${i}: 1\n`).join("");
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `  key${i}: ${i}\n`).join("");
  const head = "version: 1\ntitle: t\nmethod:\n  - pause: 1s\n";
  return [
    ["8000 problems", `version: 1\ntitle: t\nmethod:\n${steps(8000)}`],
    ["32000 keys", `${head}configuration:\n${keys(32_000)}`],
    ["32000 keys and a duplicate", `${head}configuration:\n${keys(32_000)}  key7: 1\n`],
    [
      "alias bomb",
      `${head}tags: &a [${Array(100_000).fill("1").join(",")}]\n${Array.from({ length: 99 }, (_, i) => `x${i}: *a`).join("\n")}\n`,
    ],
    [
      "nested aliases",
      `${head}a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n${Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(",")}]`,
      ).join("\n")}\n`,
    ],
    ["deep nesting", `${head}description: ${"[".repeat(5000)}${"]".repeat(5000)}\n`],
    ["1 MiB string", `${head}description: "${"x".repeat(1024 * 1024 - 100)}"\n`],
  ];
}

/** Random YAML-ish texts from a fixed seed, so that a run can be repeated. */
function randomInputs(count: number, seed: number): [string, string][] {
  const pieces = [
    "version: 1\n",
    "title: t\n",
    "method:\n",
    "  - pause: ",
    "1s",
    "10",
    ".inf",
    "\n",
    "  - action: process.kill\n",
    "    target: { pid: 1 }\n",
    "&a ",
    "*a",
    "${secrets.x}",
    "${env:HOME}",
    "[",
    "]",
    "{",
    "}",
    '"',
    ": ",
    "- ",
    "\t",
    "  ",
    "#",
    "|\n",
    "---\n",
    "\u0000",
    "\u001b[2J",
  ];
  let s = seed >>> 0;
  const next = () => {
    s = (s * 1_103_515_245 + 12_345) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: count }, (_, i) => {
    const n = Math.floor(next() * 40);
    return [
      `random ${i}`,
      Array.from({ length: n }, () => pieces[Math.floor(next() * pieces.length)]).join(""),
    ];
  });
}

/** Secrets in every form the toolkit writes, through a redactor: how many forms survive. */
function redactionLeaks(): { tried: number; leaks: number } {
  const secrets = ["k€y+/a=b%2F d'\"<>", "p@ss:w ö'rd", 'tok"en\\x{}$ab', "plain-secret-value", "ab"];
  let tried = 0;
  let leaks = 0;
  for (const secret of secrets) {
    const r = new Redactor();
    const built = `https://user:${secret}@host/p?k=${secret}&x=1`;
    r.addBuilt(built, [secret]);
    // A short secret is redacted within what was built from it (see redact.ts).
    const forms =
      secret.length >= 4 ? encodings(secret) : [...encodings(built), ...encodings(`${secret}&x=1`)];
    for (const form of forms) {
      tried++;
      if (r.text(`before ${form} after`).includes(form)) leaks++;
    }
  }
  return { tried, leaks };
}

/** One run through the built CLI with secrets in a URL and a header, at trace level, its probe failing. */
function cliLeaks(cli: string): { tried: number; leaks: number; crashes: number; exit?: string } {
  if (!existsSync(cli)) return { tried: 0, leaks: 0, crashes: 0 };
  const dir = mkdtempSync(join(tmpdir(), "chaos-verify-"));
  try {
    const secret = "v3rify+s3cr/et ö";
    const file = join(dir, "e.yaml");
    writeFileSync(
      file,
      `version: 1\ntitle: t\nsecrets: { s: { env: VERIFY_SECRET } }\nsteady-state:\n  probes:\n    - name: p\n      http: { url: "http://u:\${secrets.s}@127.0.0.1:9/x?k=\${secrets.s}", headers: { X-K: "\${secrets.s}" }, timeout: 1s }\n      tolerance: { status: 200 }\nmethod:\n  - pause: 1ms\n`,
    );
    const r = spawnSync(
      process.execPath,
      [
        cli,
        "--log-level",
        "trace",
        "run",
        file,
        "--ledger",
        join(dir, "l"),
        "--journal",
        join(dir, "out", "journal.json"),
      ],
      {
        env: { ...process.env, VERIFY_SECRET: secret },
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    const written = readdirSync(join(dir, "out"), { recursive: true, encoding: "utf8" }).map((f) =>
      readFileSync(join(dir, "out", f), "utf8"),
    );
    const texts = [r.stdout, r.stderr, ...written];
    const forms = encodings(secret);
    const leaks = texts.reduce((n, t) => n + forms.filter((f) => t.includes(f)).length, 0);
    // A verdict or a located error (exit 1-5) is an answer; a signal, another code or a stack trace is a crash.
    const crashed = r.status === null || r.status > 5 || /\n\s+at /.test(r.stderr);
    const exit = `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split("\n").at(-1) ?? ""}`;
    return {
      tried: forms.length * texts.length,
      leaks,
      crashes: crashed ? 1 : 0,
      ...(crashed ? { exit } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Hostile inputs: the malformed corpus, growing files and seeded random texts through the loader (a crash is
 * any failure that is not a ChaosError), and secrets in every encoding through the redactor and the CLI.
 */
export async function run(): Promise<{
  title: string;
  figures: Record<string, number | string>;
  ok: boolean;
}> {
  const base = root();
  const registry = defaultRegistry();
  const corpus = join(base, "test", "fixtures", "malformed");
  const fixtures: [string, string][] = [
    ...readdirSync(corpus)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => join(corpus, f)),
    ...readdirSync(join(corpus, "generated")).map((f) => join(corpus, "generated", f)),
  ].map((f) => [f, readFileSync(f, "utf8")]);
  const inputs = [...fixtures, ...scalingInputs(), ...randomInputs(2000, 20_261_202)];
  let crashes = 0;
  let slowest = { name: "", ms: 0 };
  const firstCrashes: string[] = [];
  for (const [name, text] of inputs) {
    const start = performance.now();
    try {
      parseExperiment(name, text, { registry, env: {} });
    } catch (err) {
      if (!(err instanceof ChaosError)) {
        crashes++;
        if (firstCrashes.length < 3) firstCrashes.push(`${name}: ${(err as Error).message}`);
      }
    }
    const ms = performance.now() - start;
    if (ms > slowest.ms) slowest = { name, ms };
  }
  const redaction = redactionLeaks();
  const cli = cliLeaks(join(base, "dist", "src", "cli", "main.js"));
  const leaks = redaction.leaks + cli.leaks;
  return {
    title: "hostile inputs and secrets",
    figures: {
      "inputs tried": inputs.length,
      crashes: crashes + cli.crashes,
      "secret forms checked": redaction.tried + cli.tried,
      "leaks found": leaks,
      "slowest validation ms": Math.round(slowest.ms),
      "slowest input": slowest.name.startsWith(base) ? slowest.name.slice(base.length + 1) : slowest.name,
      ...(firstCrashes.length ? { "first crashes": firstCrashes.join("; ") } : {}),
      ...(cli.exit ? { "the CLI run with secrets": cli.exit } : {}),
    },
    ok: crashes + cli.crashes === 0 && leaks === 0,
  };
}

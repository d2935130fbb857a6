import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import { type CliResult, ensureCliBuilt, runCli } from "../support/cli.js";
import { secretForms } from "../support/secret-forms.js";

/** Secrets with every character that an encoding changes; two are too short to redact everywhere. */
const SECRETS = {
  apikey: "k€y+/a=b%2F d'\"<>",
  pw: "p@ss:w ö'rd",
  bearer: 'tok"en\\x{}$ab',
  pathy: "seg ment|ö",
  procname: "hidden-proc-[0-9]+\\.x",
  job: "hid:job/ü 42",
  promkey: "pk+ey/ü=1",
  prompw: "prom-pässword",
  toxpw: "tox:p@ss-wörd",
  short: "q7",
  one: "Z",
} as const;
const ENV: Record<string, string> = Object.fromEntries(
  Object.entries(SECRETS).map(([k, v]) => [`LEAK_${k.toUpperCase()}`, v]),
);
/** An environment value that looks like a reference: it must be sent as written, never expanded. */
ENV.LEAK_TEMPLATE = "${secrets.bearer}";

const forms = secretForms;

/** What must never appear: every form of each long secret, of basic-auth pairs, of values built from short ones. */
function forbidden(): { what: string; form: string }[] {
  const out: { what: string; form: string }[] = [];
  for (const [name, value] of Object.entries(SECRETS)) {
    if (value.length < 4) continue;
    for (const form of forms(value)) out.push({ what: name, form });
  }
  for (const [what, pair] of [
    ["basic auth of the http URL", `user:${SECRETS.pw}`],
    ["basic auth of prometheus", `reader:${SECRETS.prompw}`],
    ["basic auth of toxiproxy", `admin:${SECRETS.toxpw}`],
  ] as const)
    out.push({ what, form: Buffer.from(pair).toString("base64").replace(/=+$/, "") });
  for (const built of ["s=q7", "q7&x=1", "pin-Z", "&c=q7"])
    for (const form of forms(built)) out.push({ what: built, form });
  return out;
}

interface Recorded {
  url: string;
  headers: IncomingHttpHeaders;
}

let dir: string;
let server: Server;
let base: string;
let closed: number;
const requests: Recorded[] = [];
const outputs: { name: string; text: string }[] = [];
const results: CliResult[] = [];

/** Every file the runs wrote under the test folder (journals, reports, ledger, run.log). */
function writtenFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" })
    .map((f) => join(folder, f))
    .filter((f) => statSync(f).isFile() && !f.endsWith(".yaml"));
}

const experiment = (extra: string) => `version: 1
title: every place a secret can go
secrets:
${Object.keys(SECRETS)
  .map((k) => `  ${k}: { env: LEAK_${k.toUpperCase()} }`)
  .join("\n")}
${extra}
`;

const httpRun = () =>
  experiment(`steady-state:
  probes:
    - name: api answers
      http:
        url: "${base}/p/\${secrets.pathy}?k=\${secrets.apikey}&s=\${secrets.short}&x=1"
        method: POST
        headers:
          Authorization: "Bearer \${secrets.bearer}"
          X-Pin: "pin-\${secrets.one}"
          X-Template: "\${env:LEAK_TEMPLATE}"
        body: { password: "\${secrets.pw}", key: "\${secrets.apikey}" }
        timeout: 2s
      tolerance: { status: 200 }
    - name: closed port answers
      http: { url: "http://user:\${secrets.pw}@127.0.0.1:${closed}/x?k=\${secrets.apikey}&s=\${secrets.short}&x=1", timeout: 1s }
      tolerance: { status: 200 }
    - name: short secret last, beside a long one
      http: { url: "http://127.0.0.1:${closed}/y?k=\${secrets.apikey}&c=\${secrets.short}", timeout: 1s }
      tolerance: { status: 200 }
    - name: worker runs
      process: { name: "\${secrets.procname}" }
      tolerance: true
method:
  - pause: 10ms
`);

const prometheusRun = () =>
  experiment(`configuration:
  prometheus:
    url: "${base}/prom?api_key=\${secrets.promkey}"
    auth: { basic: { username: reader, password: "\${secrets.prompw}" } }
    timeout: 1s
    retries: 0
steady-state:
  probes:
    - name: job is up
      prometheus: { query: 'up{job="\${secrets.job}"}' }
      tolerance: "> 0"
method:
  - pause: 10ms
`);

const toxiproxyRun = () =>
  experiment(`configuration:
  toxiproxy:
    url: "http://admin:\${secrets.toxpw}@127.0.0.1:${closed}"
method:
  - action: toxiproxy.latency
    target: { proxy: "api" }
    args: { latency: 100ms }
    duration: 100ms
`);

async function chaos(name: string, args: string[]): Promise<void> {
  const r = await runCli(["--log-level", "trace", "--log-format", "json", ...args], {
    cwd: dir,
    env: ENV,
    timeoutMs: 60_000,
  });
  results.push(r);
  outputs.push({ name: `${name} stdout`, text: r.stdout }, { name: `${name} stderr`, text: r.stderr });
}

beforeAll(async () => {
  await ensureCliBuilt();
  dir = await mkdtemp(join(tmpdir(), "chaos-leaks-"));
  closed = await freePort();
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? "", headers: req.headers });
    req.resume();
    res.writeHead(503, { "content-type": "text/plain" }).end(`unavailable: ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const runs: [string, string][] = [
    ["http", httpRun()],
    ["prometheus", prometheusRun()],
    ["toxiproxy", toxiproxyRun()],
  ];
  for (const [name, yaml] of runs) {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, yaml);
    const ledger = join(dir, `ledger-${name}`);
    await chaos(`validate ${name}`, ["validate", file]);
    await chaos(`plan ${name}`, ["plan", file]);
    await chaos(`run ${name}`, [
      "run",
      file,
      "--ledger",
      ledger,
      "--journal",
      join(dir, name, "journal.json"),
    ]);
  }
  for (const f of writtenFiles(dir)) outputs.push({ name: f, text: readFileSync(f, "utf8") });
}, 240_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("secrets in every place they can go, at --log-level trace, with failing probes", () => {
  it("ran every experiment to a verdict or a located error, and wrote journals and reports", () => {
    expect(results.map((r) => r.code)).toEqual([0, 0, 1, 0, 0, 4, 0, 0, 4]);
    const files = writtenFiles(dir).map((f) => f.slice(dir.length + 1));
    expect(files).toEqual(
      expect.arrayContaining(["http/journal.json", "http/report.md", "http/junit.xml", "http/report.html"]),
    );
  });

  it("sent the secrets to the service, and an environment value that looks like a reference as written", () => {
    const api = requests.find((r) => r.url.startsWith("/p/"));
    expect(api?.headers.authorization).toBe(`Bearer ${SECRETS.bearer}`);
    expect(api?.headers["x-pin"]).toBe("pin-Z");
    expect(api?.headers["x-template"]).toBe("${secrets.bearer}");
  });

  it("wrote no form of any secret in any byte: stdout, stderr, journals, reports, ledgers", () => {
    const leaks: string[] = [];
    for (const { name, text } of outputs)
      for (const { what, form } of forbidden())
        if (text.includes(form)) leaks.push(`${name}: ${what} as ${JSON.stringify(form)}`);
    expect(leaks).toEqual([]);
    expect(outputs.length).toBeGreaterThan(18);
  });

  it("kept the output readable: the verdict, the redaction marks and the single characters are still there", () => {
    const http = outputs.find((o) => o.name === "run http stdout")!.text;
    expect(http).toContain("NOT STEADY");
    expect(http).toContain("***");
    // A URL built with a short secret is redacted whole; what went wrong with it is still said.
    expect(http).toMatch(
      /GET \*\*\* failed: connection refused \(is anything listening on 127\.0\.0\.1:\d+\?\)/,
    );
    // A one-character secret is redacted where it was used, not everywhere: timestamps keep their "Z".
    const journal = outputs.find((o) => o.name.endsWith(join("http", "journal.json")))!.text;
    expect(journal).toMatch(/"start": "[0-9T:.-]+Z"/);
  });
});

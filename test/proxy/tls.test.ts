import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../examples/target-app/lib/free-ports.js";
import { toxiproxyAgent } from "../../src/agents/toxiproxy/index.js";
import { startToxiproxyServer, type ToxiproxyServer } from "../../src/proxy/server.js";
import { hasOpenssl, issueLeaf, makeCa } from "../support/certs.js";
import { CLI, ensureCliBuilt } from "../support/cli.js";
import { forwardTo } from "../support/hostile.js";
import { type TestRun, testRun } from "../toxiproxy/context.js";
import { request, tcpServer } from "./helpers.js";

/**
 * TLS in the embedded proxy, with certificates made by openssl for this test: a proxy given a certificate
 * and key terminates the client's TLS, applies HTTP toxics to the decrypted requests and reaches its
 * upstream over TLS (verified against the CA given) or plain TCP; without them TLS passes untouched.
 */

let dir: string;
const file = (name: string) => join(dir, name);

/** A CA and two leaf certificates for 127.0.0.1 it signed (CN proxy and CN upstream), P-256 keys (quick). */
function makeCertificates(): void {
  makeCa(dir, { cn: "chaos-test-ca" });
  for (const name of ["proxy", "upstream"]) {
    issueLeaf(dir, name, { extensions: ["subjectAltName=IP:127.0.0.1", "extendedKeyUsage=serverAuth"] });
  }
}

interface Answer {
  status: number;
  body: string;
  reused: boolean;
  /** CN of the certificate the client was shown. */
  peer: string;
}

/** One HTTPS request through `agent` (which trusts the test CA). */
function get(port: number, path: string, agent: https.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, path, agent }, (res) => {
      const peer = String((res.socket as tls.TLSSocket).getPeerCertificate().subject?.CN ?? "");
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          reused: req.reusedSocket,
          peer,
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

// In CI openssl is installed (.ci/run): its absence there fails this suite instead of skipping it.
describe.skipIf(!hasOpenssl && !process.env.CI)("TLS in the embedded proxy", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "chaos-proxy-tls-"));
    makeCertificates();
  }, 60_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe("through the proxy", () => {
    let server: ToxiproxyServer;
    let upstream: https.Server;
    let upstreamAddress: string;
    let ca: Buffer;
    const agents: https.Agent[] = [];
    const newAgent = () => {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
      agents.push(agent);
      return agent;
    };

    /** Creates proxy `name` with the fields given; returns its port. */
    async function proxy(name: string, fields: Record<string, unknown>): Promise<number> {
      const res = await request(
        server.url,
        "POST",
        "/proxies",
        JSON.stringify({ name, listen: "127.0.0.1:0", upstream: upstreamAddress, ...fields }),
      );
      expect(res.status, res.body).toBe(201);
      const { listen } = JSON.parse(res.body) as { listen: string };
      return Number(listen.slice(listen.lastIndexOf(":") + 1));
    }

    async function toxic(name: string, body: Record<string, unknown>): Promise<void> {
      const res = await request(server.url, "POST", `/proxies/${name}/toxics`, JSON.stringify(body));
      expect(res.status, res.body).toBe(200);
    }

    const status503 = {
      name: "charge503",
      type: "http_status",
      stream: "upstream",
      toxicity: 1,
      attributes: { status: 503, body: "from the toxic", match: { path: "/charge" } },
    };

    beforeAll(async () => {
      ca = await readFile(file("ca.pem"));
      upstream = https.createServer(
        { key: await readFile(file("upstream-key.pem")), cert: await readFile(file("upstream.pem")) },
        (req, res) => {
          req.resume();
          req.on("end", () => res.end(JSON.stringify({ from: "upstream", url: req.url })));
        },
      );
      upstream.keepAliveTimeout = 60_000;
      await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
      upstreamAddress = `127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
      server = await startToxiproxyServer({ port: 0 });
    }, 60_000);

    afterEach(async () => {
      for (const agent of agents.splice(0)) agent.destroy();
      await request(server.url, "POST", "/reset");
      for (const name of ["term", "plain", "open", "pass"])
        await request(server.url, "DELETE", `/proxies/${name}`);
    });

    afterAll(async () => {
      await server?.close();
      upstream?.closeAllConnections();
      await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
    });

    it("terminates TLS: http_status answers the matching path, the upstream (verified over TLS) the others, on one kept-alive connection", async () => {
      const port = await proxy("term", {
        tls: { cert: file("proxy.pem"), key: file("proxy-key.pem"), ca: file("ca.pem") },
      });
      await toxic("term", status503);
      const agent = newAgent();
      const answers: Answer[] = [];
      for (const path of ["/other", "/charge", "/other?x=1", "/charge", "/charge?id=7", "/list"])
        answers.push(await get(port, path, agent));
      expect(answers.map((a) => a.status)).toEqual([200, 503, 200, 503, 503, 200]);
      expect(answers[1]!.body).toBe("from the toxic");
      expect(JSON.parse(answers[2]!.body)).toEqual({ from: "upstream", url: "/other?x=1" });
      expect(JSON.parse(answers[5]!.body)).toEqual({ from: "upstream", url: "/list" });
      // The client saw the proxy's certificate, over a single TLS connection kept alive throughout.
      expect(answers.map((a) => a.peer)).toEqual(Array(6).fill("proxy"));
      expect(answers.slice(1).every((a) => a.reused)).toBe(true);
      // The definition reads back with its file paths (never the files' contents).
      const shown = JSON.parse((await request(server.url, "GET", "/proxies/term")).body) as { tls: unknown };
      expect(shown.tls).toEqual({
        cert: file("proxy.pem"),
        key: file("proxy-key.pem"),
        upstream_tls: true,
        insecure: false,
        ca: file("ca.pem"),
      });
    });

    it("terminates TLS to a plain-TCP upstream with upstream_tls false, and applies response toxics", async () => {
      const plain = await tcpServer((socket) => {
        socket.on("data", () => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain"));
      });
      try {
        const res = await request(
          server.url,
          "POST",
          "/proxies",
          JSON.stringify({
            name: "plain",
            listen: "127.0.0.1:0",
            upstream: plain.address,
            tls: { cert: file("proxy.pem"), key: file("proxy-key.pem"), upstream_tls: false },
          }),
        );
        expect(res.status, res.body).toBe(201);
        const { listen } = JSON.parse(res.body) as { listen: string };
        const port = Number(listen.slice(listen.lastIndexOf(":") + 1));
        await toxic("plain", {
          name: "hdr",
          type: "http_header",
          stream: "downstream",
          attributes: { set: { "x-fault": "yes" }, match: { path_prefix: "/api" } },
        });
        const agent = newAgent();
        expect(await get(port, "/", agent)).toMatchObject({ status: 200, body: "plain", peer: "proxy" });
        const faulted = await new Promise<string | undefined>((resolve, reject) => {
          https
            .get({ host: "127.0.0.1", port, path: "/api/x", agent }, (r) => {
              r.resume();
              resolve(r.headers["x-fault"] as string | undefined);
            })
            .on("error", reject);
        });
        expect(faulted).toBe("yes");
      } finally {
        await plain.close();
      }
    });

    it("verifies the upstream by default: without the CA the connection is dropped; insecure: true accepts it", async () => {
      const strict = await proxy("term", { tls: { cert: file("proxy.pem"), key: file("proxy-key.pem") } });
      await expect(get(strict, "/", newAgent())).rejects.toThrow(/socket hang up|ECONNRESET/);
      const open = await proxy("open", {
        tls: { cert: file("proxy.pem"), key: file("proxy-key.pem"), insecure: true },
      });
      expect(await get(open, "/x", newAgent())).toMatchObject({ status: 200, peer: "proxy" });
    });

    it("without a certificate and key, TLS passes through untouched: the upstream's certificate, no HTTP toxic", async () => {
      const port = await proxy("pass", {});
      await toxic("pass", { ...status503, attributes: { status: 503 } });
      const agent = newAgent();
      const first = await get(port, "/charge", agent);
      const second = await get(port, "/charge", agent);
      expect(first).toMatchObject({ status: 200, peer: "upstream", reused: false });
      expect(second).toMatchObject({ status: 200, peer: "upstream", reused: true });
      expect(JSON.parse(second.body)).toEqual({ from: "upstream", url: "/charge" });
      // A Toxiproxy client that sends no tls sees no tls field either.
      const shown = JSON.parse((await request(server.url, "GET", "/proxies/pass")).body) as object;
      expect(Object.keys(shown)).toEqual(["name", "listen", "upstream", "enabled", "Logger", "toxics"]);
    });

    it("refuses unusable TLS files with 400 naming the file, never its contents, and creates nothing", async () => {
      await writeFile(file("garbage.pem"), "not a certificate\n");
      await mkdir(file("a-directory"), { recursive: true });
      const cases: [Record<string, unknown>, string][] = [
        [
          { cert: file("missing.pem"), key: file("proxy-key.pem") },
          `tls.cert ${file("missing.pem")} cannot be read (no such file)`,
        ],
        [
          { cert: file("proxy.pem"), key: file("a-directory") },
          `tls.key ${file("a-directory")} cannot be read (it is a directory)`,
        ],
        [
          { cert: file("proxy.pem"), key: file("upstream-key.pem") },
          `tls.key ${file("upstream-key.pem")} does not match the certificate in tls.cert ${file("proxy.pem")}`,
        ],
        [
          { cert: file("garbage.pem"), key: file("proxy-key.pem") },
          `tls.cert ${file("garbage.pem")} is not a PEM certificate`,
        ],
        [
          { cert: file("proxy.pem"), key: file("proxy.pem") },
          `tls.key ${file("proxy.pem")} is not a PEM private key`,
        ],
        [
          { cert: file("proxy.pem"), key: file("proxy-key.pem"), ca: file("garbage.pem") },
          `tls.ca ${file("garbage.pem")} is not a PEM certificate`,
        ],
        [
          { cert: file("proxy.pem"), key: file("proxy-key.pem"), insecure: true, ca: file("ca.pem") },
          "give either ca",
        ],
        [{ cert: file("proxy.pem") }, "tls.key must be a file path"],
        [
          { cert: file("proxy.pem"), key: file("proxy-key.pem"), passphrase: "x" },
          "tls.passphrase is not a setting",
        ],
      ];
      for (const [settings, message] of cases) {
        const body = JSON.stringify({
          name: "term",
          listen: "127.0.0.1:0",
          upstream: upstreamAddress,
          tls: settings,
        });
        const res = await request(server.url, "POST", "/proxies", body);
        expect(res.status, res.body).toBe(400);
        const { error } = JSON.parse(res.body) as { error: string };
        expect(error).toContain(message);
        expect(error).not.toMatch(/PRIVATE KEY|BEGIN|\n\s+at /);
      }
      expect((await request(server.url, "GET", "/proxies")).body).toBe("{}");
    });
  });

  describe("the toxiproxy agent with a proxy definition's tls", () => {
    let upstream: https.Server;
    let upstreamAddress: string;
    const runs: TestRun[] = [];
    const agents: https.Agent[] = [];

    beforeAll(async () => {
      upstream = https.createServer(
        { key: await readFile(file("upstream-key.pem")), cert: await readFile(file("upstream.pem")) },
        (req, res) => res.end(`upstream ${req.url}`),
      );
      await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
      upstreamAddress = `127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
    });
    afterEach(async () => {
      for (const agent of agents.splice(0)) agent.destroy();
      for (const run of runs.splice(0)) await run.close();
    });
    afterAll(async () => {
      upstream.closeAllConnections();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    });

    const definition = async (tlsFields: Record<string, unknown>) => {
      const port = await freePort();
      const tlsSettings = { cert: file("proxy.pem"), key: file("proxy-key.pem"), ...tlsFields };
      return {
        port,
        proxy: { name: "payments", listen: `127.0.0.1:${port}`, upstream: upstreamAddress, tls: tlsSettings },
      };
    };

    it("toxiproxy.http-status answers HTTPS requests on the matching path through the embedded proxy, until reverted", async () => {
      const { port, proxy } = await definition({ ca: file("ca.pem") });
      const run = testRun({ toxiproxy: { proxies: [proxy] } });
      runs.push(run);
      const fault = await run.inject(
        "http-status",
        { proxy: "payments" },
        { status: 503, match: { path: "/charge" } },
      );
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: await readFile(file("ca.pem")) });
      agents.push(agent);
      expect((await get(port, "/charge", agent)).status).toBe(503);
      expect(await get(port, "/health", agent)).toMatchObject({
        status: 200,
        body: "upstream /health",
        reused: true,
      });
      await toxiproxyAgent.revert(fault.revert!, run.ctx);
      expect((await get(port, "/charge", agent)).status).toBe(200);
    });

    it("a key that does not match its certificate is invalid input (exit 2), nothing injected", async () => {
      const { proxy } = await definition({ key: file("upstream-key.pem") });
      const run = testRun({ toxiproxy: { proxies: [proxy] } });
      runs.push(run);
      await expect(run.inject("http-status", { proxy: "payments" }, { status: 503 })).rejects.toMatchObject({
        code: "invalid",
        message: expect.stringContaining("does not match the certificate"),
      });
    });

    it("a server that drops the tls field (not chaoskit's) is refused with exit 4, and the proxy it made removed", async () => {
      const real = await startToxiproxyServer({ port: 0 });
      // Forwards the API, without the field Toxiproxy 2.12 does not know.
      const stripping = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", async () => {
          let body = Buffer.concat(chunks).toString();
          if (body.startsWith("{")) {
            const { tls: _dropped, ...rest } = JSON.parse(body) as Record<string, unknown>;
            body = JSON.stringify(rest);
          }
          const answer = await forwardTo(real.url, req.method!, req.url!, body);
          res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
        });
      });
      await new Promise<void>((resolve) => stripping.listen(0, "127.0.0.1", resolve));
      try {
        const { proxy } = await definition({ ca: file("ca.pem") });
        const url = `http://127.0.0.1:${(stripping.address() as net.AddressInfo).port}`;
        const run = testRun({ toxiproxy: { url, proxies: [proxy] } });
        runs.push(run);
        await expect(run.inject("http-status", { proxy: "payments" }, { status: 503 })).rejects.toMatchObject(
          {
            code: "agent",
            message: expect.stringContaining("does not terminate TLS"),
          },
        );
        expect((await request(real.url, "GET", "/proxies")).body).toBe("{}");
      } finally {
        stripping.closeAllConnections();
        await new Promise<void>((resolve) => stripping.close(() => resolve()));
        await real.close();
      }
    });
  });

  describe("chaos proxy --config with tls", () => {
    beforeAll(ensureCliBuilt, 180_000);

    /** Runs the CLI until it exits (or 20 s), as root or as nobody. */
    function chaos(args: string[], asNobody = false): Promise<{ code: number | null; out: string }> {
      const argv = [CLI, ...args];
      const [command, full] = asNobody
        ? ["setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, ...argv]]
        : [process.execPath, argv];
      return new Promise((resolve) => {
        execFile(
          command,
          full,
          { timeout: 20_000, env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_STATE_HOME: dir } },
          (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: stdout + stderr }),
        );
      });
    }

    it("exits 2 with one clear line for a key that does not match, or a key file it cannot read, lenient or strict", async () => {
      const config = file("tls-config.json");
      const entry = { name: "pay", listen: "127.0.0.1:0", upstream: "127.0.0.1:9" };
      await writeFile(
        config,
        JSON.stringify([{ ...entry, tls: { cert: file("proxy.pem"), key: file("upstream-key.pem") } }]),
      );
      for (const strict of [[], ["--strict-config"]]) {
        const run = await chaos(["proxy", "--port", "0", "--config", config, ...strict]);
        expect(run.code, run.out).toBe(2);
        expect(run.out).toContain(
          `proxy pay: tls.key ${file("upstream-key.pem")} does not match the certificate`,
        );
        expect(run.out).not.toMatch(/PRIVATE KEY|\n\s+at /);
      }
      // A key only its owner may read, and the proxy run as another user.
      const locked = file("locked-key.pem");
      await writeFile(locked, await readFile(file("proxy-key.pem")), { mode: 0o600 });
      await writeFile(config, JSON.stringify([{ ...entry, tls: { cert: file("proxy.pem"), key: locked } }]));
      await chmod(config, 0o644);
      await chmod(dir, 0o755);
      await chmod(file("proxy.pem"), 0o644);
      const denied = await chaos(["proxy", "--port", "0", "--config", config], true);
      expect(denied.code, denied.out).toBe(2);
      expect(denied.out).toContain(`proxy pay: tls.key ${locked} cannot be read (permission denied)`);
      expect(denied.out).not.toMatch(/PRIVATE KEY|\n\s+at /);
    }, 60_000);
  });
});

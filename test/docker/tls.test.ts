import { mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dockerAgent } from "../../src/agents/docker/index.js";
import { ChaosError } from "../../src/experiments/errors.js";
import { testContext } from "../support/agent-context.js";
import { issueLeaf, makeCa } from "../support/certs.js";
import { describeWithDocker, dockerHost, startDockerSuite, type TestContainers } from "../support/docker.js";

/**
 * configuration.docker.tls against a real engine behind mutual TLS: a TLS front (certificates made with
 * openssl for this test) that requires a client certificate and passes each connection to the test engine.
 */

let containers: TestContainers;
let dir: string;
let front: tls.Server;
let port: number;

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCertificates(): void {
  makeCa(dir, { cn: "test-ca", key: "rsa" });
  issueLeaf(dir, "server", {
    extensions: ["subjectAltName=IP:127.0.0.1", "extendedKeyUsage=serverAuth"],
    key: "rsa",
  });
  issueLeaf(dir, "client", { extensions: ["extendedKeyUsage=clientAuth"], key: "rsa" });
}

describeWithDocker("the docker agent over tcp:// with TLS", () => {
  beforeAll(async () => {
    containers = await startDockerSuite();
    dir = await mkdtemp(join(tmpdir(), "chaos-docker-tls-"));
    makeCertificates();
    const socket = dockerHost.replace(/^unix:\/\//, "");
    front = tls.createServer(
      {
        key: await readFile(join(dir, "server-key.pem")),
        cert: await readFile(join(dir, "server.pem")),
        ca: await readFile(join(dir, "ca.pem")),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (client) => {
        const engine = net.connect(socket);
        client.pipe(engine).pipe(client);
        client.on("error", () => engine.destroy());
        engine.on("error", () => client.destroy());
      },
    );
    front.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    port = (front.address() as net.AddressInfo).port;
  }, 180_000);

  afterAll(async () => {
    await containers?.removeAll();
    await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pauses through the TLS engine, and a fresh context reverts it from the recorded paths", async () => {
    await containers.start("tls");
    const docker = {
      host: `tcp://127.0.0.1:${port}`,
      tls: { ca: join(dir, "ca.pem"), cert: join(dir, "client.pem"), key: join(dir, "client-key.pem") },
    };
    const ctx = testContext({ configuration: { docker } });
    try {
      const running = await dockerAgent.probes.running!.run({ name: containers.name("tls") }, ctx);
      expect(running.value).toBe(true);
      const fault = await dockerAgent.actions.pause!.prepare(
        { target: { name: containers.name("tls") }, args: {} },
        ctx,
      );
      await fault.apply();
      expect(await containers.state("tls")).toBe("paused");
      const recorded = JSON.parse(JSON.stringify(fault.revert));
      expect(recorded.data.engine).toMatchObject({ host: docker.host, tls: docker.tls });
      expect(JSON.stringify(recorded)).not.toContain("PRIVATE KEY");
      const fresh = testContext();
      await dockerAgent.revert(recorded, fresh);
      await fresh.dispose();
      expect(await containers.state("tls")).toBe("running");
    } finally {
      await ctx.dispose();
    }
  });

  it("is an agent error, touching nothing, when the engine refuses a client without a certificate", async () => {
    const ctx = testContext({
      configuration: {
        docker: { host: `tcp://127.0.0.1:${port}`, tls: { ca: join(dir, "ca.pem") }, timeout: 1000 },
      },
    });
    try {
      const err = await dockerAgent.probes.running!.run({ name: "anything" }, ctx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChaosError);
      expect((err as ChaosError).code).toBe("agent");
      expect((err as ChaosError).message).toContain(`docker engine at tcp://127.0.0.1:${port} unreachable`);
    } finally {
      await ctx.dispose();
    }
  });
});

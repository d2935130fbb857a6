import { describe, expect, it } from "vitest";
import { ChaosError } from "../../experiments/errors.js";
import { readEngineSpec, readRecordedSpec } from "./config.js";

describe("which docker engine an experiment uses", () => {
  it("takes configuration.docker first, then DOCKER_HOST, then the default socket", () => {
    const env = { DOCKER_HOST: "unix:///run/user/1000/docker.sock" };
    expect(readEngineSpec({ docker: { host: "tcp://127.0.0.1:2376", timeout: 800 } }, env)).toEqual({
      host: "tcp://127.0.0.1:2376",
      timeoutMs: 800,
    });
    expect(readEngineSpec({}, env)).toEqual({ host: "unix:///run/user/1000/docker.sock", timeoutMs: 5000 });
    expect(readEngineSpec({}, {})).toEqual({ host: "unix:///var/run/docker.sock", timeoutMs: 5000 });
  });

  it("keeps TLS files as paths, so the ledger never holds a key", () => {
    const spec = readEngineSpec(
      { docker: { host: "tcp://10.0.0.5:2376", tls: { ca: "/etc/d/ca.pem" } } },
      {},
    );
    expect(spec.tls).toEqual({ ca: "/etc/d/ca.pem" });
  });

  it("rejects a DOCKER_HOST that is neither unix:// nor tcp:// as invalid, naming it", () => {
    const err = (() => {
      try {
        readEngineSpec({}, { DOCKER_HOST: "ssh://me@host" });
      } catch (e) {
        return e;
      }
    })() as ChaosError;
    expect(err).toBeInstanceOf(ChaosError);
    expect(err.code).toBe("invalid");
    expect(err.message).toBe('DOCKER_HOST "ssh://me@host" is not a unix:// or tcp:// address');
  });

  it("refuses a ledger entry without an engine", () => {
    expect(() => readRecordedSpec({ host: 3 })).toThrow(/malformed docker revert entry/);
    expect(readRecordedSpec({ host: "unix:///s", timeoutMs: 9 })).toEqual({
      host: "unix:///s",
      timeoutMs: 9,
    });
  });
});

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChaosError } from "./errors.js";
import { Ledger } from "./ledger.js";
import { type Lease, Locks, locksDir, releaseLease, sweepStaleLeases } from "./locks.js";
import { currentRun } from "./run-identity.js";

let dir: string;
let ledger: Ledger;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chaos-locks-"));
  ledger = new Ledger(join(dir, "ledger"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const leaseFiles = async () => (await readdir(locksDir(ledger.dir)).catch(() => [])).sort();
const runLocks = (runId: string) => new Locks(ledger, { runId, experiment: `experiment ${runId}` });

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
}

/** Writes the lease another run would have written, holder chosen by the test. */
async function foreignLease(runId: string, key: string, holder: Partial<Lease>): Promise<void> {
  const a = runLocks(runId);
  await a.acquire([key]);
  const [name] = await leaseFiles();
  const file = join(locksDir(ledger.dir), name!);
  const lease = JSON.parse(await readFile(file, "utf8")) as Lease;
  await writeFile(file, JSON.stringify({ ...lease, ...holder }));
}

/** The one lease in the ledger's folder. */
async function holderOf(): Promise<Lease> {
  const files = await leaseFiles();
  expect(files).toHaveLength(1);
  return JSON.parse(await readFile(join(locksDir(ledger.dir), files[0]!), "utf8")) as Lease;
}

async function refusal(locks: Locks, keys: string[]): Promise<ChaosError> {
  const err = await locks.acquire(keys).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChaosError);
  return err as ChaosError;
}

describe("leases on targets", () => {
  it("are one file per key holding the key, the run and its process identity", async () => {
    await runLocks("run-a").acquire(["process:boot:42:7"]);
    const files = await leaseFiles();
    expect(files).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.json$/)]);
    const lease = JSON.parse(await readFile(join(locksDir(ledger.dir), files[0]!), "utf8"));
    const self = await currentRun();
    expect(lease).toMatchObject({
      key: "process:boot:42:7",
      runId: "run-a",
      experiment: "experiment run-a",
      pid: process.pid,
      pidStartTime: self.pidStartTime,
      bootId: self.bootId,
    });
    expect(Date.parse(lease.created)).not.toBeNaN();
  });

  it("refuse a second live run, naming the holder", async () => {
    await runLocks("run-a").acquire(["toxiproxy:http://127.0.0.1:8474:api"]);
    const err = await refusal(runLocks("run-b"), ["toxiproxy:http://127.0.0.1:8474:api"]);
    expect(err.code).toBe("agent");
    expect(err.message).toContain("locked by run run-a");
    expect(err.message).toContain(`pid ${process.pid}`);
    expect(err.message).toContain('experiment "experiment run-a"');
  });

  it("are taken all or none", async () => {
    await runLocks("run-a").acquire(["k2"]);
    await refusal(runLocks("run-b"), ["k1", "k2"]);
    expect(await leaseFiles()).toHaveLength(1);
    await runLocks("run-c").acquire(["k1"]);
    expect(await leaseFiles()).toHaveLength(2);
  });

  it("are re-entrant within one run and released with the last hold", async () => {
    const a = runLocks("run-a");
    await a.acquire(["k"]);
    await a.acquire(["k"]);
    await a.release(["k"]);
    expect(await leaseFiles()).toHaveLength(1);
    await a.release(["k"]);
    expect(await leaseFiles()).toEqual([]);
    await runLocks("run-b").acquire(["k"]);
  });

  it("are taken over when the holder is dead", async () => {
    await foreignLease("run-dead", "k", { pid: await deadPid() });
    await runLocks("run-b").acquire(["k"]);
    const [name] = await leaseFiles();
    expect(JSON.parse(await readFile(join(locksDir(ledger.dir), name!), "utf8")).runId).toBe("run-b");
  });

  it("are taken over when the holder's pid now names another process", async () => {
    const self = await currentRun();
    await foreignLease("run-reused", "k", { pidStartTime: (self.pidStartTime ?? 0) + 1 });
    await runLocks("run-b").acquire(["k"]);
    expect(await holderOf()).toMatchObject({
      runId: "run-b",
      pid: self.pid,
      pidStartTime: self.pidStartTime,
    });
  });

  it("are taken over when the holder ran during another boot", async () => {
    await foreignLease("run-old-boot", "k", { bootId: "00000000-0000-0000-0000-000000000000" });
    await runLocks("run-b").acquire(["k"]);
    expect(await holderOf()).toMatchObject({ runId: "run-b", bootId: (await currentRun()).bootId });
  });

  it("that cannot be written refuse the step with a clear error, and hold nothing", async () => {
    await rm(ledger.dir, { recursive: true, force: true });
    await writeFile(ledger.dir, "a file where the ledger folder should be");
    const locks = runLocks("run-a");
    const err = await refusal(locks, ["k"]);
    expect(err.code).toBe("agent");
    expect(err.message).toMatch(/^cannot write a lease in .*locks: /);
    expect(err.hint).toContain("the fault was not applied");
    await rm(ledger.dir, { force: true });
    // Nothing is counted as held: the next acquire writes the lease for real.
    await locks.acquire(["k"]);
    expect(await holderOf()).toMatchObject({ runId: "run-a" });
  });

  it("stay when a dead holder left a fault on the target in the ledger", async () => {
    await foreignLease("run-dead", "k", { pid: await deadPid() });
    await ledger.record({
      runId: "run-dead",
      experiment: "e",
      step: "s",
      locks: ["k"],
      revert: { agent: "process", kind: "resume", description: "resume pid 1", data: {} },
    });
    const err = await refusal(runLocks("run-b"), ["k"]);
    expect(err.message).toContain("died leaving a fault on it");
    expect(err.hint).toContain("chaos rollback");
  });

  it("are released by the run that holds them only", async () => {
    await runLocks("run-a").acquire(["k"]);
    expect(await releaseLease(ledger.dir, "k", "run-b")).toBe(false);
    expect(await leaseFiles()).toHaveLength(1);
    expect(await releaseLease(ledger.dir, "k", "run-a")).toBe(true);
    expect(await leaseFiles()).toEqual([]);
  });

  it("of dead runs that left nothing in the ledger are swept, live ones kept", async () => {
    await foreignLease("run-dead", "dead-key", { pid: await deadPid() });
    await runLocks("run-live").acquire(["live-key"]);
    expect(await sweepStaleLeases(ledger.dir, [])).toEqual(["dead-key (run run-dead)"]);
    expect(await leaseFiles()).toHaveLength(1);
  });

  it("half-written by dead runs are swept, those of live writers and other files kept", async () => {
    const dead = await deadPid();
    const folder = locksDir(ledger.dir);
    await mkdir(folder, { recursive: true });
    const names = [
      `k1.json.${dead}-0a1b2c3d.tmp`, // a dead writer's lease, never renamed into place
      `k2.json.${dead}-deadbeef.stale`, // a dead writer's takeover, never finished
      `k3.json.${process.pid}-0a1b2c3d.tmp`, // this process is writing it now
      `k4.json.${dead}.tmp`, // not a name a lease writer makes
      "notes.txt",
    ];
    for (const name of names) await writeFile(join(folder, name), "{ half");
    expect((await sweepStaleLeases(ledger.dir, [])).sort()).toEqual([names[0], names[1]]);
    expect(await leaseFiles()).toEqual([names[2], names[3], "notes.txt"].sort());
  });

  it("go to only one of many runs racing for the same key", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => runLocks(`run-${i}`).acquire(["contended"])),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await leaseFiles()).toHaveLength(1);
  });
});

describe("machine-wide leases", () => {
  const machine = () => join(dir, "machine");
  const withLedger = (name: string, runId: string) =>
    new Locks(new Ledger(join(dir, name)), { runId, experiment: `experiment ${runId}` }, machine());

  it("refuse a run with another ledger while the holder lives, naming its ledger, and free the key on release", async () => {
    const a = withLedger("ledger-a", "run-a");
    await a.acquire(["toxiproxy:http://127.0.0.1:1:payments"]);
    const err = await refusal(withLedger("ledger-b", "run-b"), ["toxiproxy:http://127.0.0.1:1:payments"]);
    expect(err.message).toContain("is locked by run run-a");
    expect(err.message).toContain(`ledger ${join(dir, "ledger-a")}`);
    // Refused in both folders: run B holds nothing, not even in its own ledger.
    expect(await readdir(locksDir(join(dir, "ledger-b"))).catch(() => [])).toEqual([]);
    await a.release(["toxiproxy:http://127.0.0.1:1:payments"]);
    expect(await readdir(machine())).toEqual([]);
    await withLedger("ledger-b", "run-b").acquire(["toxiproxy:http://127.0.0.1:1:payments"]);
    expect((await readdir(machine())).filter((f) => f.endsWith(".json"))).toHaveLength(1);
  });

  it("of a dead run are taken over, unless its own ledger still holds a fault on the key", async () => {
    const key = "toxiproxy:http://127.0.0.1:1:orders";
    await withLedger("ledger-a", "run-dead").acquire([key]);
    const [name] = (await readdir(machine())).filter((f) => f.endsWith(".json"));
    const file = join(machine(), name!);
    const lease = JSON.parse(await readFile(file, "utf8")) as Lease;
    expect(lease.ledger).toBe(join(dir, "ledger-a"));
    await writeFile(file, JSON.stringify({ ...lease, pid: await deadPid() }));
    // The dead run left its fault in its own ledger: refused, pointing at that ledger.
    await new Ledger(join(dir, "ledger-a")).record({
      runId: "run-dead",
      experiment: "e",
      step: "s",
      revert: { agent: "toxiproxy", kind: "undo", description: "d", data: {} },
      locks: [key],
    });
    const err = await refusal(withLedger("ledger-b", "run-b"), [key]);
    expect(err.message).toContain(`leaving a fault on it in ${join(dir, "ledger-a")}`);
    // Once that ledger is empty (chaos rollback), the stale lease is taken over.
    await rm(join(dir, "ledger-a"), { recursive: true, force: true });
    await withLedger("ledger-b", "run-b").acquire([key]);
    expect(JSON.parse(await readFile(file, "utf8")).runId).toBe("run-b");
  });
});

import { createHash, randomBytes } from "node:crypto";
import { link, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fsyncDir, writeSynced } from "./durable.js";
import { ChaosError } from "./errors.js";
import { Ledger, type LedgerEntry } from "./ledger.js";
import { makeDir } from "./make-dir.js";
import { currentRun, isRunAlive, type RunIdentity } from "./run-identity.js";

/**
 * Leases on targets, so that two runs never fault the same process, container, pod or proxy at once (one
 * run's revert would end the other's fault mid-window, and its verdict would be a lie).
 *
 *   <ledger>/locks/<sha256 of key>.json   { key, runId, experiment, pid, pidStartTime, bootId, created }
 *   <machine>/<sha256 of key>.json        the same, with `ledger`: seen by runs with any other ledger
 *
 * A target outside this machine's processes (an external Toxiproxy, a cluster) may be faulted by runs that
 * keep different ledgers; the machine-wide folder (`$CHAOS_LEASES_DIR`, else /tmp/chaoskit-leases) makes
 * their leases meet. A run takes a key in both folders, or in neither.
 *
 * A lease is written complete to a temporary file, then hard-linked to its name: the link fails if the name
 * exists, so exactly one run gets it. A lease whose holder is dead (pid gone, or reused: another start time
 * or boot) is stale and taken over — unless the dead run left a fault on that target in the ledger: then
 * `chaos rollback` must revert it first.
 */
export interface Lease extends RunIdentity {
  key: string;
  runId: string;
  experiment: string;
  created: string;
  /** The holder's ledger folder (in the machine-wide folder), where a fault it left would be recorded. */
  ledger?: string;
}

/** The machine-wide lease folder: `$CHAOS_LEASES_DIR`, else /tmp/chaoskit-leases. */
export function machineLeasesDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CHAOS_LEASES_DIR || join("/tmp", "chaoskit-leases"));
}

export const locksDir = (ledgerDir: string): string => join(ledgerDir, "locks");
const leaseName = (key: string): string => `${createHash("sha256").update(key).digest("hex")}.json`;

async function readLease(file: string): Promise<Lease | undefined> {
  try {
    const raw = JSON.parse(await readFile(file, "utf8")) as Partial<Lease> | null;
    if (raw && typeof raw.key === "string" && typeof raw.runId === "string" && Number.isInteger(raw.pid))
      return raw as Lease;
    return undefined;
  } catch {
    return undefined;
  }
}

async function unlinkQuietly(file: string): Promise<void> {
  await unlink(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}

function holderText(l: Lease): string {
  const where = l.ledger ? `, ledger ${l.ledger}` : "";
  return `run ${l.runId} (pid ${l.pid}, experiment "${l.experiment}"${where}, since ${l.created})`;
}

/** The leases one run holds, counted so that a run may take the same key again (re-entrant). */
export class Locks {
  private readonly held = new Map<string, number>();
  /** The ledger's own lease folder, then (when given) the machine-wide one. */
  private readonly dirs: string[];

  constructor(
    private readonly ledger: Ledger,
    private readonly run: { runId: string; experiment: string },
    machineDir?: string,
  ) {
    const own = locksDir(ledger.dir);
    this.dirs = machineDir && resolve(machineDir) !== resolve(own) ? [own, machineDir] : [own];
  }

  /**
   * Takes a lease on every key, or on none.
   * @throws ChaosError("agent") naming the holder when another live run holds a key, or when a dead run
   * left a fault on it in the ledger; ChaosError("agent") when the lease cannot be written.
   */
  async acquire(keys: readonly string[]): Promise<void> {
    const taken: string[] = [];
    try {
      for (const key of new Set(keys)) {
        await this.take(key);
        taken.push(key);
      }
    } catch (err) {
      await this.release(taken);
      throw err;
    }
  }

  /** Gives back one hold on each key; the lease file goes with the last one. Never throws. */
  async release(keys: readonly string[]): Promise<void> {
    for (const key of new Set(keys)) {
      const count = (this.held.get(key) ?? 0) - 1;
      if (count > 0) {
        this.held.set(key, count);
        continue;
      }
      this.held.delete(key);
      for (const dir of this.dirs) await releaseIn(dir, key, this.run.runId).catch(() => undefined);
    }
  }

  private async take(key: string): Promise<void> {
    if (this.held.has(key)) {
      this.held.set(key, this.held.get(key)! + 1);
      return;
    }
    const taken: string[] = [];
    try {
      for (const dir of this.dirs) {
        await this.takeIn(dir, key, dir === this.dirs[0] ? {} : { ledger: resolve(this.ledger.dir) });
        taken.push(dir);
      }
    } catch (err) {
      for (const dir of taken) await releaseIn(dir, key, this.run.runId).catch(() => undefined);
      throw err;
    }
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
  }

  private async takeIn(dir: string, key: string, extra: Partial<Lease>): Promise<void> {
    const lease: Lease = {
      key,
      runId: this.run.runId,
      experiment: this.run.experiment,
      ...(await currentRun()),
      created: new Date().toISOString(),
      ...extra,
    };
    const file = join(dir, leaseName(key));
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await this.linkNew(dir, file, lease)) return;
      const current = await readLease(file);
      // Taken by a concurrent step of this very run.
      if (current?.runId === this.run.runId) return;
      if (current && (await isRunAlive(current))) {
        throw new ChaosError("agent", `${key} is locked by ${holderText(current)}`, {
          hint: "another run is faulting this target; wait for it to end (or stop it: its faults roll back)",
        });
      }
      if (current && (await this.leftFault(current))) {
        throw new ChaosError(
          "agent",
          `${key} is locked by ${holderText(current)}, which died leaving a fault on it in ${current.ledger ?? this.ledger.dir}`,
          { hint: "run `chaos rollback` to revert it first" },
        );
      }
      await takeOver(file, current);
    }
    throw new ChaosError("agent", `could not take the lease on ${key}: it changed hands repeatedly`);
  }

  /** Whether a dead run's ledger entries (in its own ledger) still hold a fault on this lease's key. */
  private async leftFault(lease: Lease): Promise<boolean> {
    const ledger = lease.ledger ? new Ledger(lease.ledger) : this.ledger;
    const { entries } = await ledger.entries();
    return entries.some((e) => e.runId === lease.runId && e.locks?.includes(lease.key));
  }

  /** Writes the lease to a temporary file and links it into place; false when the name is taken. */
  private async linkNew(dir: string, file: string, lease: Lease): Promise<boolean> {
    const tmp = `${file}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
    try {
      await makeDir(dir, 0o700);
      await writeSynced(tmp, `${JSON.stringify(lease, null, 2)}\n`, "wx");
      await link(tmp, file);
      await fsyncDir(dir);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      const hint =
        dir === this.dirs[0]
          ? "the fault was not applied; make the ledger folder writable or pass --ledger PATH"
          : "the fault was not applied; make the machine-wide lease folder writable or set CHAOS_LEASES_DIR";
      throw new ChaosError("agent", `cannot write a lease in ${dir}: ${(err as Error).message}`, { hint });
    } finally {
      await unlinkQuietly(tmp).catch(() => undefined);
    }
  }
}

/**
 * Removes a stale lease — only the very lease that was judged stale: it is moved aside first and put back
 * if it turns out another run took it over meanwhile.
 */
async function takeOver(file: string, stale: Lease | undefined): Promise<void> {
  const aside = `${file}.${process.pid}-${randomBytes(4).toString("hex")}.stale`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  const moved = await readLease(aside);
  const same =
    moved === stale ||
    (moved !== undefined &&
      stale !== undefined &&
      moved.runId === stale.runId &&
      moved.created === stale.created);
  if (!same) await link(aside, file).catch(() => undefined);
  await unlinkQuietly(aside);
}

/**
 * Removes the lease on `key` if `runId` holds it (as `chaos rollback` does for what it reverted).
 * Returns whether a lease was removed.
 */
export async function releaseLease(
  ledgerDir: string,
  key: string,
  runId: string,
  machineDir = machineLeasesDir(),
): Promise<boolean> {
  await releaseIn(machineDir, key, runId).catch(() => false);
  return releaseIn(locksDir(ledgerDir), key, runId);
}

async function releaseIn(dir: string, key: string, runId: string): Promise<boolean> {
  const file = join(dir, leaseName(key));
  const lease = await readLease(file);
  if (lease?.runId !== runId) return false;
  await unlinkQuietly(file);
  return true;
}

/**
 * Removes leases (and half-written lease files) whose holder is dead and left no fault in the ledger, e.g.
 * after a run was killed between reverting a fault and releasing its lease. Returns what it removed.
 */
export async function sweepStaleLeases(ledgerDir: string, entries: LedgerEntry[]): Promise<string[]> {
  const dir = locksDir(ledgerDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const lease = await readLease(file);
    if (lease) {
      const leftFault = entries.some((e) => e.runId === lease.runId && e.locks?.includes(lease.key));
      if (leftFault || (await isRunAlive(lease))) continue;
    } else {
      // A temporary file names its writer: <hash>.json.<pid>-<random>.tmp|.stale
      const writer = /\.json\.(\d+)-[0-9a-f]+\.(tmp|stale)$/.exec(name);
      if (!writer || (await isRunAlive({ pid: Number(writer[1]) }))) continue;
    }
    await unlinkQuietly(file);
    removed.push(lease ? `${lease.key} (run ${lease.runId})` : name);
  }
  return removed;
}

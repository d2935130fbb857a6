import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { RevertDescription } from "../agents/agent.js";
import { ChaosError } from "./errors.js";

/** The default ledger folder, relative to the working directory; `CHAOS_LEDGER` overrides it. */
export function defaultLedgerDir(): string {
  return resolve(process.env.CHAOS_LEDGER ?? join(".chaos", "ledger"));
}

/** One fault that was (or was about to be) applied and is not yet known to be reverted. */
export interface LedgerEntry {
  id: string;
  runId: string;
  /** The process that applied it; `chaos rollback` leaves entries of live runs alone. */
  pid: number;
  experiment: string;
  step: string;
  recordedAt: string;
  revert: RevertDescription;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * A crash-safe record of applied faults: one small JSON file per fault in a folder. An entry is written and
 * fsynced (file and folder) BEFORE its fault is applied, and deleted once the fault is reverted, so after
 * any crash the folder lists exactly what may still be live.
 */
export class Ledger {
  constructor(readonly dir: string = defaultLedgerDir()) {}

  /**
   * Durably records a fault about to be applied.
   * @throws ChaosError("agent") when the ledger cannot be written: then the fault must not be applied.
   */
  async record(entry: Omit<LedgerEntry, "id" | "recordedAt" | "pid">): Promise<LedgerEntry> {
    const full: LedgerEntry = {
      id: `${entry.runId}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`,
      pid: process.pid,
      recordedAt: new Date().toISOString(),
      ...entry,
    };
    await this.write(full);
    return full;
  }

  /**
   * Replaces a recorded entry, e.g. when applying a fault refined what its revert must undo.
   * @throws ChaosError("agent") when the ledger cannot be written.
   */
  async rewrite(entry: LedgerEntry): Promise<void> {
    await this.write(entry);
  }

  private async write(full: LedgerEntry): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      const final = join(this.dir, `${full.id}.json`);
      const tmp = `${final}.tmp`;
      const fh = await open(tmp, "w", 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(full, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, final);
      await fsyncDir(this.dir);
    } catch (err) {
      throw new ChaosError(
        "agent",
        `cannot write the rollback ledger in ${this.dir}: ${(err as Error).message}`,
        {
          hint: "the fault was not applied; make the folder writable or pass --ledger PATH",
        },
      );
    }
  }

  /** Forgets an entry once its fault is reverted. Removing a missing entry is fine. */
  async remove(id: string): Promise<void> {
    try {
      await unlink(join(this.dir, `${id}.json`));
      await fsyncDir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  /** Every entry still recorded, oldest first. Unreadable files are reported, not skipped silently. */
  async entries(): Promise<{ entries: LedgerEntry[]; unreadable: string[] }> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith(".json"));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return { entries: [], unreadable: [] };
      if (code === "ENOTDIR") {
        throw new ChaosError("invalid", `the ledger ${this.dir} is not a folder`, {
          hint: "pass --ledger with the folder a run used",
        });
      }
      throw err;
    }
    const entries: LedgerEntry[] = [];
    const unreadable: string[] = [];
    for (const n of names) {
      try {
        entries.push(JSON.parse(await readFile(join(this.dir, n), "utf8")) as LedgerEntry);
      } catch {
        unreadable.push(join(this.dir, n));
      }
    }
    entries.sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
    return { entries, unreadable };
  }
}

/** Whether a process with this pid exists (a zombie or another user's process counts as alive). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

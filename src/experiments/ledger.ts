import { randomBytes } from "node:crypto";
import { readdir, rename, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { RevertDescription } from "../contract/agent.js";
import { fsyncDir, writeSynced } from "./durable.js";
import { ChaosError } from "./errors.js";
import { readRegularFile } from "./input.js";
import { checkEntry } from "./ledger-entry.js";
import { makeDir } from "./make-dir.js";
import { currentRun, isRunAlive, type RunIdentity } from "./run-identity.js";

/**
 * The default ledger folder: `$CHAOS_LEDGER`, else the per-user state folder
 * (`$XDG_STATE_HOME/chaoskit/ledger`, else `~/.local/state/chaoskit/ledger`), so that `chaos rollback` finds
 * what a crashed run left from whatever directory it is started in.
 */
export function defaultLedgerDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CHAOS_LEDGER) return resolve(env.CHAOS_LEDGER);
  return join(stateFolder(env), "ledger");
}

/** The per-user state folder: `$XDG_STATE_HOME/chaoskit`, else `~/.local/state/chaoskit`. */
export function stateFolder(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".local", "state"), "chaoskit");
}

/** A ledger entry is a few kilobytes; anything far larger is not one. */
const MAX_ENTRY_BYTES = 1024 * 1024;

/** One fault that was (or was about to be) applied and is not yet known to be reverted. */
export interface LedgerEntry extends RunIdentity {
  /** The file name without `.json`. */
  id: string;
  runId: string;
  experiment: string;
  step: string;
  recordedAt: string;
  revert: RevertDescription;
  /** The lease keys the run holds for this fault (see locks.ts); `chaos rollback` releases them. */
  locks?: string[];
}

/** A ledger file that cannot be used: where it is and what is wrong with it. */
export interface MalformedEntry {
  file: string;
  problem: string;
}

/**
 * A crash-safe record of applied faults: one small JSON file per fault in a folder. An entry is written and
 * fsynced (file and folder) BEFORE its fault is applied, and deleted once the fault is reverted, so after
 * any crash the folder lists exactly what may still be live.
 */
export class Ledger {
  readonly dir: string;

  constructor(dir?: string) {
    this.dir = dir ? resolve(dir) : defaultLedgerDir();
  }

  /**
   * Durably records a fault about to be applied, with the identity of this process (pid, start time, boot).
   * @throws ChaosError("agent") when the ledger cannot be written: then the fault must not be applied.
   */
  async record(entry: Omit<LedgerEntry, "id" | "recordedAt" | keyof RunIdentity>): Promise<LedgerEntry> {
    const full: LedgerEntry = {
      id: `${entry.runId}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`,
      ...(await currentRun()),
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
      await makeDir(this.dir, 0o700);
      const final = join(this.dir, `${full.id}.json`);
      // The writer's pid in the name lets `chaos rollback` remove what a killed writer left half-done.
      const tmp = `${final}.${process.pid}.tmp`;
      await writeSynced(tmp, `${JSON.stringify(full, null, 2)}\n`);
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

  /**
   * Removes the temporary files of entries whose writer died before renaming them into place (their fault was
   * never applied: that happens only once the entry is in place). Returns their paths.
   */
  async sweepUnfinished(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of names) {
      const writer = /\.json\.(\d+)\.tmp$/.exec(name);
      if (!writer || (await isRunAlive({ pid: Number(writer[1]) }))) continue;
      await unlink(join(this.dir, name)).catch(() => undefined);
      removed.push(join(this.dir, name));
    }
    return removed;
  }

  /**
   * Every valid entry still recorded, oldest first, and every file that is not one (bad JSON, missing or
   * mistyped fields) with what is wrong: one bad file never hides the others.
   * @throws ChaosError("invalid") when the ledger path is not a folder.
   */
  async entries(): Promise<{ entries: LedgerEntry[]; malformed: MalformedEntry[] }> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith(".json"));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return { entries: [], malformed: [] };
      if (code === "ENOTDIR") {
        throw new ChaosError("invalid", `the ledger ${this.dir} is not a folder`, {
          hint: "pass --ledger with the folder a run used",
        });
      }
      throw err;
    }
    const entries: LedgerEntry[] = [];
    const malformed: MalformedEntry[] = [];
    for (const n of names) {
      const file = join(this.dir, n);
      let raw: unknown;
      try {
        // Regular files only: a FIFO planted here would block the read, and with it every other revert.
        raw = JSON.parse(await readRegularFile(file, MAX_ENTRY_BYTES, "remove it from the ledger folder"));
      } catch (err) {
        const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
        if (cause?.code === "ENOENT") continue; // reverted and removed meanwhile
        const code = err instanceof ChaosError ? "read" : undefined;
        malformed.push({
          file,
          problem: code ? (err as Error).message : `not JSON: ${(err as Error).message}`,
        });
        continue;
      }
      const checked = checkEntry(raw, n.slice(0, -".json".length));
      if (typeof checked === "string") malformed.push({ file, problem: checked });
      else entries.push(checked);
    }
    entries.sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
    return { entries, malformed };
  }
}

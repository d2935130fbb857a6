import { open } from "node:fs/promises";

/**
 * Writes a whole file and fsyncs it before returning, so that a crash right after leaves either nothing or
 * the complete text. `flag` "wx" fails with EEXIST instead of replacing a file.
 */
export async function writeSynced(path: string, text: string, flag: "w" | "wx" = "w"): Promise<void> {
  const fh = await open(path, flag, 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Fsyncs a folder, making the creation, renaming or removal of its entries durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

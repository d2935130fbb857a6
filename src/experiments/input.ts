import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { ChaosError } from "./errors.js";

/** The default cap on an experiment file: far above any real experiment, far below a memory problem. */
export const DEFAULT_MAX_INPUT_BYTES = 1024 * 1024;

/**
 * The cap in force: `maxBytes` when given, else `$CHAOS_MAX_INPUT_BYTES`, else 1 MiB.
 * @throws ChaosError("invalid") when the value given is not a positive whole number.
 */
export function inputCap(maxBytes?: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw =
    maxBytes ?? (env.CHAOS_MAX_INPUT_BYTES ? Number(env.CHAOS_MAX_INPUT_BYTES) : DEFAULT_MAX_INPUT_BYTES);
  if (!Number.isSafeInteger(raw) || raw <= 0) {
    throw new ChaosError("invalid", `the input size limit must be a positive number of bytes, not ${raw}`, {
      hint: "e.g. --max-input-bytes 1048576 or CHAOS_MAX_INPUT_BYTES=1048576",
    });
  }
  return raw;
}

function tooLarge(what: string, cap: number): ChaosError {
  return new ChaosError("invalid", `${what} is larger than ${cap} bytes`, {
    hint: "an experiment is a small file; raise the limit with --max-input-bytes or CHAOS_MAX_INPUT_BYTES",
  });
}

/** Reads standard input up to `cap` bytes. @throws ChaosError("invalid") beyond the cap. */
async function readStdin(cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > cap) {
      process.stdin.destroy();
      throw tooLarge("standard input", cap);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Reads an experiment: a regular file (through a symlink too), or standard input for `-`, at most `cap`
 * bytes either way. A device (`/dev/zero`), a FIFO, a socket or a folder is refused without reading: it
 * could hang or never end.
 * @throws ChaosError("invalid") naming the path and what is wrong with it.
 */
export async function readInput(file: string, maxBytes?: number): Promise<string> {
  const cap = inputCap(maxBytes);
  if (file === "-") return readStdin(cap);
  return readRegularFile(file, cap, "name an experiment file, or - to read standard input");
}

/**
 * Reads a regular file (through a symlink too) of at most `cap` bytes, for every file the toolkit reads:
 * experiments, var files, journals, ledger entries. It is opened without blocking and checked on the open
 * handle, so a FIFO, a device or a socket put in its place is refused instead of read (a FIFO blocks forever).
 * @throws ChaosError("invalid") naming the path and what is wrong with it; the file system's error is its
 *   `cause` (ENOENT for a missing file).
 */
export async function readRegularFile(file: string, cap: number, hint: string): Promise<string> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ChaosError(
      "invalid",
      `cannot read ${file}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (err as Error).message}`,
      { hint: "check the path", cause: err },
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      const kind = st.isDirectory()
        ? "a folder"
        : st.isFIFO()
          ? "a FIFO"
          : st.isCharacterDevice() || st.isBlockDevice()
            ? "a device"
            : "not a regular file";
      throw new ChaosError(
        "invalid",
        `cannot read ${file}: ${kind.startsWith("not") ? kind : `it is ${kind}`}`,
        {
          hint,
        },
      );
    }
    if (st.size > cap) throw tooLarge(file, cap);
    const buf = Buffer.alloc(Math.min(st.size, cap) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > cap) throw tooLarge(file, cap);
      if (length === buf.length) break;
    }
    return buf.subarray(0, length).toString("utf8");
  } finally {
    await fh.close();
  }
}

import { constants } from "node:fs";
import { lstat, open, rename, unlink } from "node:fs/promises";
import { ChaosError } from "./errors.js";

/**
 * Refuses a path the toolkit must not write to: a symlink (the file it points to would be replaced), a
 * device, FIFO or socket (renaming over `/dev/null` would replace it), or a folder. A missing file is fine.
 * @throws ChaosError("invalid") naming the path and the kind of file found.
 */
export async function checkOutputFile(path: string, what = "output file"): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new ChaosError("invalid", `cannot use ${path} as the ${what}: ${(err as Error).message}`, {
      hint: "pass a path in a writable folder",
    });
  }
  if (st.isFile()) return;
  const kind = st.isSymbolicLink()
    ? "a symbolic link"
    : st.isDirectory()
      ? "a folder"
      : st.isFIFO()
        ? "a FIFO"
        : st.isSocket()
          ? "a socket"
          : "a device";
  throw new ChaosError("invalid", `refusing to write the ${what} to ${path}: it is ${kind}`, {
    hint: "name a new or regular file (or - to stream the journal to stdout)",
  });
}

/**
 * Writes `data` to `path` atomically: into a new temp file beside it (created exclusively, never through a
 * symlink), then renamed over `path`, which must be missing or a regular file.
 * @throws ChaosError("invalid") for a refused path; the file system's error when the write fails.
 */
export async function writeFileSafely(path: string, data: string, what?: string): Promise<void> {
  await checkOutputFile(path, what);
  const tmp = `${path}.${process.pid}.tmp`;
  await unlink(tmp).catch(() => undefined);
  const fh = await open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

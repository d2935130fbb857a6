import { constants } from "node:fs";
import { lstat, open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { ChaosError } from "./errors.js";
import { makeDir } from "./make-dir.js";

/**
 * Creates `dir` if missing and proves that a file can be made in it, by creating and removing one: `access`
 * says yes to root for folders no one can write in (`/sys/kernel`, `/proc/1`), so only a real file tells.
 * @throws ChaosError("invalid") naming the folder and the file system's reason.
 */
export async function checkWritableFolder(dir: string, what: string, hint: string): Promise<void> {
  const probe = join(dir, `.chaos-write-check.${process.pid}.tmp`);
  try {
    await makeDir(dir);
    const fh = await open(
      probe,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    );
    await fh.close();
    await unlink(probe);
  } catch (err) {
    await unlink(probe).catch(() => undefined);
    throw new ChaosError("invalid", `cannot write the ${what} in ${dir}: ${(err as Error).message}`, {
      hint,
    });
  }
}

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
  } catch (err) {
    // A full disk must not leave a half-written temp file behind.
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
}

import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A server's binary: the path in `$envVar`, then each of `names` on PATH, then `fallback` (where Debian's
 * package puts it). Never throws; undefined when none is executable.
 */
export function findBinary(envVar: string, names: readonly string[], fallback: string): string | undefined {
  const explicit = process.env[envVar];
  if (explicit && isExecutable(explicit)) return explicit;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const name of names) if (isExecutable(join(dir, name))) return join(dir, name);
  }
  return isExecutable(fallback) ? fallback : undefined;
}

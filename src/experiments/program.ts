import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The program's full path, found as a shell finds it; undefined when there is none to execute. */
export function whichProgram(path: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = path.includes("/")
    ? [path]
    : (env.PATH ?? "").split(delimiter).map((d) => join(d, path));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

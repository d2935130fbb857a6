import { parse } from "yaml";
import { ChaosError } from "../experiments/errors.js";
import { inputCap, readRegularFile } from "../experiments/input.js";

/**
 * The configuration overrides of `--var-file vars.yaml` (a mapping) and then `--var name=value` (later wins).
 * A value is read as YAML, so `--var retries=3` is a number and `--var url=http://x` a string.
 * @throws ChaosError("invalid") for a `--var` without `=`, or a var file that cannot be read or is not a mapping.
 */
export async function readVars(
  vars: string[] = [],
  files: string[] = [],
): Promise<Record<string, unknown> | undefined> {
  if (!vars.length && !files.length) return undefined;
  // No prototype: a name like `toString` or `__proto__` is only ever a key.
  const out: Record<string, unknown> = Object.create(null);
  for (const file of files) {
    let data: unknown;
    try {
      data = parse(
        await readRegularFile(file, inputCap(), "a YAML mapping of configuration names to values"),
      );
    } catch (err) {
      throw new ChaosError("invalid", `--var-file ${file}: ${(err as Error).message}`, {
        hint: "a YAML mapping of configuration names to values",
      });
    }
    if (data === null || typeof data !== "object" || Array.isArray(data))
      throw new ChaosError("invalid", `--var-file ${file}: not a mapping of names to values`, {
        hint: "e.g. base_url: http://127.0.0.1:8080",
      });
    for (const [name, value] of Object.entries(data)) out[refuseUnsafe(name, `--var-file ${file}`)] = value;
  }
  for (const v of vars) {
    const eq = v.indexOf("=");
    if (eq <= 0)
      throw new ChaosError("invalid", `--var ${v}: expected name=value`, {
        hint: "e.g. --var base_url=http://127.0.0.1:8080",
      });
    const text = v.slice(eq + 1);
    let value: unknown;
    try {
      value = parse(text);
    } catch {
      value = text;
    }
    out[refuseUnsafe(v.slice(0, eq), `--var ${v}`)] = value ?? text;
  }
  return out;
}

/** Names that reach an object's prototype rather than a configuration value. */
const UNSAFE = new Set(["__proto__", "prototype", "constructor"]);

/** `name`, unless one of its dotted parts names a prototype. @throws ChaosError("invalid") naming `where`. */
function refuseUnsafe(name: string, where: string): string {
  if (name.split(".").some((k) => UNSAFE.has(k)))
    throw new ChaosError(
      "invalid",
      `${where}: "${name}" names an object's prototype, not a configuration value`,
      {
        hint: "set a name the experiment declares under configuration",
      },
    );
  return name;
}

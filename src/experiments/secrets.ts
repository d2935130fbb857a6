import { readFileSync } from "node:fs";
import { ChaosError } from "./errors.js";
import type { SecretSource } from "./model.js";

/**
 * Reads every declared secret.
 * @throws ChaosError("invalid") naming the secret and its source when one cannot be read (never its value).
 */
export function resolveSecrets(
  sources: Record<string, SecretSource>,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, src] of Object.entries(sources)) {
    if (src.env !== undefined) {
      const v = env[src.env];
      if (v === undefined || v === "") {
        throw new ChaosError("invalid", `secret "${name}": environment variable ${src.env} is not set`, {
          hint: `export ${src.env}=… before running`,
        });
      }
      out[name] = v;
    } else if (src.value !== undefined) {
      out[name] = src.value;
    } else if (src.file !== undefined) {
      try {
        out[name] = readFileSync(src.file, "utf8").replace(/\r?\n$/, "");
      } catch (err) {
        throw new ChaosError(
          "invalid",
          `secret "${name}": cannot read ${src.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          {
            hint: "check the file path and its permissions",
          },
        );
      }
    }
  }
  return out;
}

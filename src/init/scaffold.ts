import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Registry } from "../agents/registry.js";
import { ChaosError } from "../experiments/errors.js";
import { parseExperiment } from "../experiments/load.js";
import { makeDir } from "../experiments/make-dir.js";
import { didYouMean } from "../experiments/suggest.js";
import type { Template, TemplateValues } from "./template.js";
import { TEMPLATES } from "./templates/index.js";

const SCHEMA = join("src", "experiments", "schema", "experiment.schema.json");

/**
 * The experiment schema of this installation (source tree, dist/ or node_modules alike).
 * @throws Error when no folder above this module holds it.
 */
export function experimentSchemaPath(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    // dist/ holds a copy of the schema; editors should use the one the package publishes.
    if (basename(dir) !== "dist" && existsSync(join(dir, SCHEMA)) && existsSync(join(dir, "package.json")))
      return join(dir, SCHEMA);
    if (dirname(dir) === dir) throw new Error(`no ${SCHEMA} above ${from}`);
  }
}

/**
 * The template called `name`.
 * @throws ChaosError("invalid") naming the templates there are, with "did you mean".
 */
export function findTemplate(name: string): Template {
  const t = TEMPLATES.find((x) => x.name === name);
  if (t) return t;
  throw new ChaosError("invalid", `no template "${name}"`, {
    hint: didYouMean(
      name,
      TEMPLATES.map((x) => x.name),
    ),
  });
}

/**
 * The experiment a template makes for `out`: the schema modeline (a path relative to `out`, so editors find
 * the schema) and the template, checked as `chaos validate` would check it.
 * @throws ValidationErrors when the values make an invalid experiment (a bad URL, a PromQL syntax error).
 */
export function scaffold(
  template: Template,
  values: TemplateValues,
  out: string,
  registry: Registry,
): string {
  const schema = relative(dirname(resolve(out)), experimentSchemaPath())
    .split("\\")
    .join("/");
  const text = `# yaml-language-server: $schema=${schema}\n${template.render(values)}`;
  parseExperiment(out, text, { registry, env: {} });
  return text;
}

/**
 * Writes a new file (and its folder); an existing file only with `force`.
 * @throws ChaosError("invalid") when the file exists (without force) or cannot be written.
 */
export async function writeNewFile(path: string, text: string, force: boolean): Promise<void> {
  try {
    await makeDir(dirname(path));
    await writeFile(path, text, { flag: force ? "w" : "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ChaosError(
      "invalid",
      code === "EEXIST" ? `${path} already exists` : `cannot write ${path}: ${(err as Error).message}`,
      {
        hint: code === "EEXIST" ? "pass --force to overwrite it, or --out another file" : "check the folder",
      },
    );
  }
}

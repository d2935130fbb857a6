import { basename } from "node:path";
import { Document, isCollection, isScalar } from "yaml";
import type { Registry } from "../../agents/registry.js";
import { ChaosError, ValidationErrors } from "../errors.js";
import { Problems, parseExperiment } from "../load.js";
import { SourceFile } from "../source.js";
import { isCtkExperiment, type Strategy, translateCtk } from "./translate.js";

export interface ImportOptions {
  registry: Registry;
  /** Where the result goes, for the error locations of its check (`<stdout>` when printed). */
  out: string;
  /** The `$schema` of the modeline, relative to where the result goes. */
  schema: string;
  strategy?: Strategy;
  env?: NodeJS.ProcessEnv;
}

/**
 * Converts a Chaos Toolkit experiment into ours: the schema modeline, the translated experiment, and a
 * comment wherever the mapping is not one to one. The original is validated first (every problem, at its
 * line in the original) and the result is checked as `chaos validate` checks a file.
 * @throws ValidationErrors for an invalid original; ChaosError("invalid") for a file that is not a Chaos
 *   Toolkit experiment.
 */
export function importCtk(file: string, text: string, opts: ImportOptions): string {
  const env = opts.env ?? process.env;
  const src = new SourceFile(file, text);
  const syntax = src.syntaxErrors();
  if (syntax.length) throw new ValidationErrors(syntax);
  if (!isCtkExperiment(src.data))
    throw new ChaosError("invalid", `${file} is not a Chaos Toolkit experiment`, {
      hint: "one has a steady-state-hypothesis, or activities with type and provider",
    });
  // The same reading as `chaos run`: every problem of the original, located in it.
  parseExperiment(file, text, { registry: opts.registry, env, strategy: opts.strategy });
  const problems = new Problems(src);
  const { document, translation } = translateCtk(src.data as Record<string, unknown>, problems, {
    strategy: opts.strategy,
  });
  problems.throwIfAny();

  const doc = new Document(document);
  const header = [
    `Converted from ${basename(file)} (a Chaos Toolkit experiment) by chaos import.`,
    ...translation.ignored,
  ];
  for (const { path, text: note } of translation.notes) {
    const node = path.length ? nodeAt(doc, path) : undefined;
    if (isScalar(node)) node.comment = node.comment ? `${node.comment}; ${note}` : ` ${note}`;
    else if (isCollection(node))
      node.commentBefore = node.commentBefore ? `${node.commentBefore}\n ${note}` : ` ${note}`;
    else header.push(path.length ? `${path.join(".")}: ${note}` : note);
  }
  doc.commentBefore = header.map((l) => ` ${l}`).join("\n");
  const yaml = `# yaml-language-server: $schema=${opts.schema}\n${doc.toString({ lineWidth: 0 })}`;
  parseExperiment(opts.out, yaml, { registry: opts.registry, env });
  return yaml;
}

/**
 * The node at `path`, or where a note about a provider's argument lands: `…/timeout` of a step is its
 * provider's (`http.timeout`, `args.timeout`, `probe.http.timeout`), at most two levels down.
 */
function nodeAt(doc: Document, path: (string | number)[]): unknown {
  if (doc.hasIn(path)) return doc.getIn(path, true);
  const last = path[path.length - 1]!;
  const find = (node: unknown, depth: number): unknown => {
    if (!isCollection(node) || depth < 0) return undefined;
    if (depth < 2 && node.has(last)) return node.get(last, true);
    for (const item of node.items as { value?: unknown }[]) {
      const hit = find(item?.value, depth - 1);
      if (hit) return hit;
    }
    return undefined;
  };
  return find(doc.getIn(path.slice(0, -1), true), 2);
}

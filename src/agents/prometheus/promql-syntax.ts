import { parser } from "@prometheus-io/lezer-promql";

export interface SyntaxProblem {
  message: string;
  hint: string;
  /** Character offset of the first error in the query. */
  offset: number;
}

const HINT = "check brackets, quotes, operators and function names; PromQL reference: prometheus.io/docs";

/** The text around `offset` worth quoting: the bad token, else the next word, else the end. */
function near(query: string, from: number, to: number): string | undefined {
  const bad = query.slice(from, to).trim();
  if (bad) return bad.length > 30 ? `${bad.slice(0, 30)}…` : bad;
  const rest = query.slice(from).trimStart();
  if (!rest) return undefined;
  const word = /^(\w+|\S)/.exec(rest)?.[0] ?? rest[0]!;
  return word;
}

/**
 * Parses PromQL offline and returns the first syntax error, or undefined when the query parses. Only the
 * grammar is checked: types (e.g. `rate()` of an instant vector) are left to Prometheus, at preflight.
 * Never throws.
 */
export function checkPromqlSyntax(query: string): SyntaxProblem | undefined {
  if (query.trim() === "")
    return { message: "PromQL query is empty", hint: "write a PromQL expression", offset: 0 };
  const tree = parser.parse(query);
  let first: { from: number; to: number } | undefined;
  tree.iterate({
    enter(node) {
      if (first) return false;
      if (node.type.isError) first = { from: node.from, to: node.to };
      return undefined;
    },
  });
  if (!first) return undefined;
  const text = near(query, first.from, first.to);
  const message = text
    ? `PromQL syntax error near '${text}' (at character ${first.from + 1})`
    : `PromQL syntax error: the query ends too early (at character ${first.from + 1})`;
  return { message, hint: HINT, offset: first.from };
}

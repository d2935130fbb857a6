import type { SyntaxNode } from "@lezer/common";
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
 * Parses PromQL offline and returns the first problem, or undefined when the query is accepted: the grammar,
 * then what Prometheus's own parser refuses beyond it (a selector that matches everything, a regex that does
 * not compile). Types (e.g. `rate()` of an instant vector) are left to Prometheus, at preflight.
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
  if (!first) return semanticProblem(query, tree.topNode);
  const text = near(query, first.from, first.to);
  const message = text
    ? `PromQL syntax error near '${text}' (at character ${first.from + 1})`
    : `PromQL syntax error: the query ends too early (at character ${first.from + 1})`;
  return { message, hint: HINT, offset: first.from };
}

/** The value of a PromQL string literal ("…", '…' or `…`), or undefined when it cannot be read. */
function unquote(literal: string): string | undefined {
  const q = literal[0];
  if (literal.length < 2 || literal.at(-1) !== q) return undefined;
  const body = literal.slice(1, -1);
  if (q === "`") return body;
  try {
    return JSON.parse(`"${q === "'" ? body.replace(/\\'/g, "'").replace(/"/g, '\\"') : body}"`) as string;
  } catch {
    return undefined;
  }
}

/**
 * The regex a matcher or label_replace means (anchored, as Prometheus anchors it), or its compile error.
 * RE2's flag groups (`(?i)`, `(?i:…)`) and named groups (`(?P<n>…)`) are read as JavaScript's nearest form, so
 * only what neither dialect accepts (an unclosed group, a dangling quantifier) is refused here.
 */
function compileRegex(source: string): RegExp | string {
  const js = source
    .replace(/\(\?[imsU]+\)/g, "")
    .replace(/\(\?[imsU]+:/g, "(?:")
    .replace(/\(\?P</g, "(?<");
  try {
    return new RegExp(`^(?:${js})$`, "s");
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
  }
}

interface Matcher {
  op: string;
  value: string;
  node: SyntaxNode;
}

function matchers(selector: SyntaxNode, query: string): Matcher[] {
  const out: Matcher[] = [];
  const list = selector.getChild("LabelMatchers");
  for (let m = list?.firstChild; m; m = m.nextSibling) {
    if (m.name !== "UnquotedLabelMatcher" && m.name !== "QuotedLabelMatcher") continue;
    const op = m.getChild("MatchOp");
    const lit = m.getChild("StringLiteral");
    const value = lit ? unquote(query.slice(lit.from, lit.to)) : undefined;
    if (op && value !== undefined) out.push({ op: query.slice(op.from, op.to), value, node: m });
  }
  return out;
}

/** Whether a matcher accepts a series without the label (whose value is the empty string). */
function matchesEmpty(m: Matcher): boolean {
  if (m.op === "=") return m.value === "";
  if (m.op === "!=") return m.value !== "";
  const re = compileRegex(m.value);
  if (typeof re === "string") return false;
  return m.op === "=~" ? re.test("") : !re.test("");
}

const REGEX_HINT = "PromQL regexes are RE2, anchored at both ends: escape special characters with \\";

function semanticProblem(query: string, top: SyntaxNode): SyntaxProblem | undefined {
  let found: SyntaxProblem | undefined;
  const cursor = top.cursor();
  do {
    const node = cursor.node;
    if (node.name === "VectorSelector") {
      const ms = matchers(node, query);
      for (const m of ms) {
        if (m.op !== "=~" && m.op !== "!~") continue;
        const re = compileRegex(m.value);
        if (typeof re === "string") {
          found = {
            message: `PromQL regex ${JSON.stringify(m.value)} does not compile: ${re} (at character ${m.node.from + 1})`,
            hint: REGEX_HINT,
            offset: m.node.from,
          };
          break;
        }
      }
      const named =
        node.getChild("Identifier") !== null || node.getChild("LabelMatchers")?.getChild("QuotedLabelName");
      if (!found && !named && ms.every(matchesEmpty)) {
        found = {
          message: `PromQL selector ${JSON.stringify(query.slice(node.from, node.to))} matches every series: Prometheus refuses it (at character ${node.from + 1})`,
          hint: 'name a metric, or add a matcher that does not match the empty string, e.g. {job="api"}',
          offset: node.from,
        };
      }
    } else if (
      node.name === "FunctionCall" &&
      node.getChild("FunctionIdentifier")?.getChild("LabelReplace")
    ) {
      const args = node.getChild("FunctionCallBody")?.getChildren("StringLiteral") ?? [];
      const regex = args[3];
      const value = regex ? unquote(query.slice(regex.from, regex.to)) : undefined;
      const re = value === undefined ? undefined : compileRegex(value);
      if (typeof re === "string") {
        found = {
          message: `label_replace's regex ${JSON.stringify(value)} does not compile: ${re} (at character ${regex!.from + 1})`,
          hint: REGEX_HINT,
          offset: regex!.from,
        };
      }
    }
  } while (!found && cursor.next());
  return found;
}
